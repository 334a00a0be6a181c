/**
 * First-run setup of the demo: the sample models in `models/` are registered and promoted to
 * champion, and each gets a reference profile, so traffic from the simulator is scored and monitored
 * from the first event. Neither the scoring service nor window-metrics does this on its own (a real
 * deployment registers its models and uploads its training data through the API or the CLIs); the
 * launcher and the end-to-end tests call this once before the components start.
 *
 * Idempotent: a model that already has versions is left alone, and a version that already has a
 * profile keeps it. The reference rows are fresh rows of the sample generator (seed REFERENCE_SEED,
 * the stationary population the models were trained on), scored by the model itself, with the
 * business outcomes the simulator reports, so drift, CBPE calibration and KPI baselines all have a
 * reference.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import type { Logger } from '../../lib/runtime/logger.js';
import type { KpiDefinition } from '../../lib/performance/kpi/kpi.js';
import type { ClassificationOptions } from '../../lib/performance/classification.js';
import { buildAndStoreReferenceProfile, listProfiles } from '../../lib/reference/store.js';
import { createModelRegistry } from '../scoring/model-registry.js';
import { validateMetadata } from '../scoring/model-metadata.js';
import { FEATURE_SPACES, generateRows } from '../scoring/sample-models/feature-space.js';
import { businessOutcome } from '../simulator/core.js';
import { linearSpecFromMetadata, referenceRows, type TrainingRow } from '../retrain-worker/core.js';

export const SAMPLE_VERSION = '1';
export const REFERENCE_SEED = 4242;
export const REFERENCE_ROWS = 5000;

export interface BootstrapOptions {
  /** Where the sample model directories are (`<dir>/<name>/<version>/`). */
  readonly sourceDir: string;
  readonly modelDir: string;
  readonly logger: Logger;
  readonly kpis?: readonly KpiDefinition[];
  readonly performanceFor?: (model: string) => Partial<ClassificationOptions>;
  /** Only these models (default: every sample model with a feature space). */
  readonly models?: readonly string[];
}

export interface BootstrapReport {
  readonly registered: string[];
  readonly profiled: string[];
}

export async function bootstrapSampleModels(ch: ClickHouse, o: BootstrapOptions): Promise<BootstrapReport> {
  const registry = createModelRegistry(ch, { modelDir: o.modelDir });
  const report: BootstrapReport = { registered: [], profiled: [] };
  const names = (o.models ?? readdirSync(o.sourceDir)).filter((n) => FEATURE_SPACES[n] && existsSync(join(o.sourceDir, n, SAMPLE_VERSION, 'model.onnx')));
  for (const name of names) {
    const dir = join(o.sourceDir, name, SAMPLE_VERSION);
    const versions = await registry.listVersions(name);
    if (versions.length === 0) {
      await registry.register(name, {
        onnx: readFileSync(join(dir, 'model.onnx')),
        metadata: JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as unknown,
        version: SAMPLE_VERSION,
        promoteTo: 'champion',
        actor: 'launcher',
        reason: `sample model from ${dir}`,
      });
      report.registered.push(`${name}@${SAMPLE_VERSION}`);
      o.logger.info({ model: name, version: SAMPLE_VERSION }, `registered sample model ${name} v${SAMPLE_VERSION} as champion`);
    }
    if ((await listProfiles(ch, name)).some((p) => p.version === SAMPLE_VERSION)) continue;
    const metadata = validateMetadata(JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as unknown, name);
    const spec = linearSpecFromMetadata(metadata);
    if (!spec) throw new Error(`${dir}: metadata has no linear coefficients; cannot score reference rows`);
    const rows: TrainingRow[] = generateRows(name, REFERENCE_SEED, REFERENCE_ROWS).map((r) => ({
      features: r.features,
      label: r.label ?? null,
      target: r.target ?? null,
      business: businessOutcome(name, r),
      segment: r.segment,
    }));
    const built = await buildAndStoreReferenceProfile(ch, {
      model: name,
      version: SAMPLE_VERSION,
      rows: referenceRows(spec, rows),
      source: `sample generator seed ${REFERENCE_SEED} (${REFERENCE_ROWS} rows, scored by ${name} v${SAMPLE_VERSION})`,
      ...(o.kpis ? { kpis: o.kpis } : {}),
      ...(o.performanceFor ? { performance: o.performanceFor(name) } : {}),
    });
    report.profiled.push(`${name}@${SAMPLE_VERSION}`);
    o.logger.info(
      { model: name, version: SAMPLE_VERSION, profileVersion: built.profileVersion, kpiBaselines: built.kpiBaselines },
      `built the reference profile of ${name} v${SAMPLE_VERSION}`,
    );
  }
  return report;
}
