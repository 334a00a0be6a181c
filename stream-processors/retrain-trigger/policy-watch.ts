/**
 * Reloads retrain policies without a restart: the `policies:` section of DW_CONFIG_FILE is re-read
 * when the file changes (its mtime or size, checked every RETRAIN_POLICY_RELOAD_MS) or when the
 * process receives SIGHUP (the Unix convention for "re-read your configuration").
 *
 * A file that no longer validates is reported (PolicyInvalidError listing every problem) and the
 * running policies stay in force: a typo in an edit must not switch retraining off. Only a change of
 * the parsed policies counts as a reload; editing another section of the file does not.
 */
import { readFile, stat } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { PolicyInvalidError } from '../../lib/runtime/errors.js';
import { parsePolicies, type Policy } from './policy.js';

export interface PolicyWatchOptions {
  readonly file: string;
  /** 0: no polling, SIGHUP only. */
  readonly intervalMs: number;
  /** The policies in force at start (from the startup configuration). */
  readonly initial: readonly Policy[];
  readonly onReload: (policies: readonly Policy[]) => void;
  readonly onInvalid: (err: PolicyInvalidError) => void;
  /** The file could not be read (e.g. moved away during an editor's save); retried next time. */
  readonly onError?: (err: Error) => void;
  /** Listen for SIGHUP (default true). */
  readonly sighup?: boolean;
}

export type CheckResult = 'applied' | 'unchanged' | 'invalid' | 'unreadable';

export interface PolicyWatch {
  /** Re-reads the file now if it changed (or always when forced). */
  check(force?: boolean): Promise<CheckResult>;
  stop(): void;
}

/** Identity of a policy set: the ordered policy hashes. */
export function policySetHash(policies: readonly Policy[]): string {
  return policies.map((p) => `${p.id}:${p.hash}`).join('|');
}

/** Reads and validates the `policies:` section of a YAML configuration file. */
export async function readPolicyFile(file: string): Promise<readonly Policy[]> {
  const text = await readFile(file, 'utf8'); // an I/O error propagates as is
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new PolicyInvalidError(`invalid retrain policies (1 problem):\n  - ${file}: not valid YAML: ${(err as Error).message}`, {
      problems: [`${file}: not valid YAML: ${(err as Error).message}`],
    });
  }
  const section = doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>).policies : undefined;
  return parsePolicies(section);
}

export function watchPolicyFile(options: PolicyWatchOptions): PolicyWatch {
  let current = policySetHash(options.initial);
  let lastStamp: string | null = null;
  let running: Promise<CheckResult> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function stamp(): Promise<string> {
    const s = await stat(options.file);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  }

  async function doCheck(force: boolean): Promise<CheckResult> {
    let st: string;
    try {
      st = await stamp();
    } catch (err) {
      options.onError?.(err as Error);
      return 'unreadable';
    }
    if (!force && st === lastStamp) return 'unchanged';
    let policies: readonly Policy[];
    try {
      policies = await readPolicyFile(options.file);
    } catch (err) {
      if (err instanceof PolicyInvalidError) {
        lastStamp = st; // report an invalid file once, not on every poll
        options.onInvalid(err);
        return 'invalid';
      }
      options.onError?.(err as Error);
      return 'unreadable';
    }
    lastStamp = st;
    const next = policySetHash(policies);
    if (next === current) return 'unchanged';
    current = next;
    options.onReload(policies);
    return 'applied';
  }

  const check = (force = false): Promise<CheckResult> => {
    // One check at a time; a SIGHUP during a poll waits for it and then forces its own read.
    const prev = running ?? Promise.resolve<CheckResult>('unchanged');
    const next = prev.then(() => doCheck(force));
    running = next.finally(() => {
      if (running === next) running = null;
    });
    return next;
  };

  const onSighup = () => void check(true);
  if (options.sighup !== false) process.on('SIGHUP', onSighup);
  // No baseline stamp: the first poll reads the file once and compares the parsed policies with the
  // ones in force, so an edit made between the startup read and this point is not missed.
  const schedule = () => {
    if (stopped || options.intervalMs <= 0) return;
    timer = setTimeout(() => void check(false).finally(schedule), options.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    check,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      process.off('SIGHUP', onSighup);
    },
  };
}
