/**
 * Entry point of the retrain trigger (a child process of the launcher, or `node --import tsx
 * stream-processors/retrain-trigger/main.ts`). Reads policies from the `policies:` section of
 * DW_CONFIG_FILE, reloads them on change or SIGHUP, and runs until SIGTERM.
 *
 * Invalid policies at startup exit with code 78 (EX_CONFIG), listing every problem, as invalid
 * settings do.
 */
import { PolicyInvalidError } from '../../lib/runtime/errors.js';
import { createRuntime, EXIT_CONFIG, runMain } from '../../lib/runtime/process.js';
import { COMPONENT, startRetrainTrigger } from './trigger.js';

runMain(COMPONENT, async () => {
  const runtime = createRuntime(COMPONENT);
  try {
    const trigger = await startRetrainTrigger(runtime);
    runtime.onShutdown(() => trigger.stop());
  } catch (err) {
    if (err instanceof PolicyInvalidError) {
      process.stderr.write(`${COMPONENT}: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
});
