/** Shared fixtures of the window-metrics unit tests: a profile and a stream from the seeded generator. */
import { buildStoredProfile } from '../../../lib/reference/build.js';
import { rowFromFlat } from '../../../lib/reference/read.js';
import type { ProfileEntry } from '../../../lib/reference/types.js';
import { parseMonitoringConfig, type MonitoringConfig } from '../../../stream-processors/window-metrics/config.js';
import type { StepEnv } from '../../../stream-processors/window-metrics/state.js';
import { timingFromSettings } from '../../../stream-processors/window-metrics/windows.js';
import { referenceRows } from '../../support/window-stream.js';

export const monitoring: MonitoringConfig = parseMonitoringConfig({
  segments: ['region'],
  kpis: [
    { name: 'conversion_rate', expression: 'business.converted', aggregation: 'mean' },
    { name: 'fallback_rate', expression: 'fallback != null', aggregation: 'rate' },
  ],
});

export function profileEntry(seed = 1, n = 2000, profileVersion = 1): ProfileEntry {
  const stored = buildStoredProfile(
    referenceRows(seed, n).map((r) => rowFromFlat(r)),
    { model: 'm', version: 'v1', source: 'test', createdAt: 0, kpis: monitoring.kpis },
  );
  return { ...stored, profileVersion };
}

export const timing = timingFromSettings({
  WINDOW_SIZE_MS: 10_000,
  WINDOW_ALLOWED_LATENESS_MS: 1_000,
  JOIN_MAX_LABEL_DELAY_MS: 20_000,
  JOIN_WATERMARK_DELAY_MS: 1_000,
});

export function envWith(profile: ProfileEntry | null, config: MonitoringConfig = monitoring): StepEnv {
  return { timing, config, profileFor: () => profile };
}
