/**
 * The components the main job runs, in start order (sinks before sources, so nothing produced is
 * waiting on a consumer that has not started). Each runs as its own process, as in production, so a
 * crash of one does not take the others down; the launcher restarts it with backoff.
 */
export interface ComponentSpec {
  readonly name: string;
  readonly entry: string;
  /** Extra environment for this component. */
  readonly env?: Readonly<Record<string, string>>;
  readonly description: string;
}

export const COMPONENTS: readonly ComponentSpec[] = [
  { name: 'api', entry: 'services/api/main.ts', description: 'HTTP API, status page and /metrics' },
  { name: 'ingest', entry: 'stream-processors/ingest/main.ts', description: 'features, predictions, outcomes -> ClickHouse raw tables' },
  { name: 'label-joiner', entry: 'stream-processors/label-joiner/main.ts', description: 'predictions ⋈ delayed outcomes -> labeled predictions' },
  { name: 'window-metrics', entry: 'stream-processors/window-metrics/main.ts', description: 'drift, performance, KPIs per event-time window' },
  { name: 'retrain-trigger', entry: 'stream-processors/retrain-trigger/main.ts', description: 'policies -> RetrainRequested events and alerts' },
  { name: 'scoring', entry: 'services/scoring/main.ts', description: 'ONNX scoring of feature events -> predictions' },
  { name: 'retrain-worker', entry: 'services/retrain-worker/main.ts', description: 'trains, exports and promotes a new model version on RetrainRequested' },
  { name: 'simulator', entry: 'services/simulator/main.ts', description: 'feature and outcome traffic with drift scenarios' },
];
