/**
 * One loaded model version: an onnxruntime InferenceSession plus its metadata. The only module that
 * imports onnxruntime-node (the CPU binaries bundled in the npm package; its install script that
 * downloads CUDA binaries is disabled in .npmrc).
 *
 * Sessions are reference-counted: a hot swap retires the old version while a micro-batch may still
 * be running on it, so the session is released only when the last user is done.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { InferenceError, ModelInvalidError, ModelLoadError } from '../../lib/runtime/errors.js';
import type { ModelMetadata } from './model-metadata.js';
import { decodeOutputs, encodeDense, requiredOutputs, type FeatureMap, type ImputeReason, type ModelOutput } from './tensor-codec.js';

export interface ScoredBatch {
  readonly outputs: ModelOutput[];
  /** Wall time of encode + session.run + decode for the batch, ms. */
  readonly latencyMs: number;
  readonly imputed: Readonly<Record<ImputeReason, number>>;
}

export interface LoadedModel {
  readonly name: string;
  readonly version: string;
  readonly metadata: ModelMetadata;
  /** For benchmarks: the raw session. */
  readonly session: ort.InferenceSession;
  score(rows: readonly FeatureMap[]): Promise<ScoredBatch>;
  acquire(): void;
  release(): void;
  /** No new users; the session is released once in-flight batches finish. */
  retire(): void;
}

export interface LoadOptions {
  readonly intraOpThreads: number;
}

/**
 * Creates a session from ONNX bytes and checks it against the metadata (input name, output names).
 * `asRegistration` decides the error: at registration a bad file is the caller's (DW_MODEL_INVALID,
 * 422); when serving a registered version it is DW_MODEL_LOAD_FAILED, which triggers the fallback.
 */
export async function loadModel(
  name: string,
  version: string,
  onnx: Uint8Array,
  metadata: ModelMetadata,
  opts: LoadOptions,
  asRegistration = false,
): Promise<LoadedModel> {
  const Err = asRegistration ? ModelInvalidError : ModelLoadError;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(onnx, {
      intraOpNumThreads: opts.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    });
  } catch (err) {
    throw new Err(`onnxruntime cannot load ${name}@${version}: ${(err as Error).message}`, { model: name, version }, { cause: err });
  }
  const problems: string[] = [];
  if (!session.inputNames.includes(metadata.input.name))
    problems.push(`metadata input ${JSON.stringify(metadata.input.name)} is not a model input (${session.inputNames.join(', ')})`);
  const fetches = requiredOutputs(metadata);
  for (const o of fetches)
    if (!session.outputNames.includes(o)) problems.push(`metadata output ${JSON.stringify(o)} is not a model output (${session.outputNames.join(', ')})`);
  if (problems.length > 0) {
    await session.release().catch(() => undefined);
    throw new Err(`${name}@${version} does not match its metadata: ${problems.join('; ')}`, { model: name, version, problems });
  }

  let users = 0;
  let retired = false;
  let released = false;
  const releaseIfIdle = () => {
    if (retired && users === 0 && !released) {
      released = true;
      void session.release().catch(() => undefined);
    }
  };
  const inputName = metadata.input.name;
  const cols = metadata.features.length;

  return {
    name,
    version,
    metadata,
    session,
    acquire() {
      users++;
    },
    release() {
      users--;
      releaseIfIdle();
    },
    retire() {
      retired = true;
      releaseIfIdle();
    },
    async score(rows) {
      const t0 = performance.now();
      const input = encodeDense(metadata, rows);
      let result: ort.InferenceSession.ReturnType;
      try {
        result = await session.run({ [inputName]: new ort.Tensor('float32', input.data, [rows.length, cols]) }, fetches);
      } catch (err) {
        throw new InferenceError(`onnxruntime failed to score ${name}@${version}: ${(err as Error).message}`, { model: name, version }, { cause: err });
      }
      const outputs = decodeOutputs(metadata, result as unknown as Record<string, { data: ArrayLike<number>; dims: readonly number[] }>, rows.length);
      return { outputs, latencyMs: performance.now() - t0, imputed: input.imputed };
    },
  };
}
