/**
 * What the API app needs from the outside, passed in explicitly (no module reads the environment or
 * opens a connection by itself): `main.ts` builds these from the runtime, tests build them from the
 * real test stack.
 */
import type { Settings } from '../../lib/runtime/config.js';
import type { ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import type { Metrics } from '../../lib/runtime/metrics.js';
import type { DatasetRow } from './lib/dataset.js';

/** A readiness probe: resolves when the dependency is usable, rejects (or aborts) otherwise. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<void>;

export const DEPENDENCIES = ['kafka', 'registry', 'clickhouse'] as const;
export type DependencyName = (typeof DEPENDENCIES)[number];

export interface StoredReference {
  readonly model_name: string;
  readonly model_version: string;
  readonly profile_version: number;
  readonly created_at: string;
  readonly source: string;
  readonly n_rows: number;
  readonly features: readonly string[];
  /** Task the reference rows imply (binary, multiclass, regression, unknown). */
  readonly task: string;
}

/**
 * Builds and stores reference profiles. The profile format and its storage belong to the window
 * metrics area (lib/reference); the API only parses uploads and calls this (lib/references.ts).
 */
export interface ReferenceService {
  fromRows(input: { model: string; version: string; rows: readonly DatasetRow[]; source: string }): Promise<StoredReference>;
  fromTimeRange(input: { model: string; version: string; from: number; to: number; source?: string | undefined }): Promise<StoredReference>;
}

/** Semantic validation of a retrain policy (the policy language belongs to the retrain-trigger area). Returns problems; empty = valid. */
export type PolicyValidator = (policy: unknown) => readonly string[];

export interface ApiDeps {
  readonly settings: Settings;
  readonly metrics: Metrics;
  readonly clickhouse: ClickHouse;
  readonly readiness: Readonly<Record<DependencyName, ReadinessCheck>>;
  readonly references: ReferenceService;
  readonly validatePolicy: PolicyValidator;
  readonly now?: () => number;
}
