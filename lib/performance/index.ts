/**
 * Performance metrics (realized and CBPE-estimated), label-delay sketches and configured business
 * KPIs. Pure, mergeable window state; the window-metrics processor owns the I/O.
 */
export * from './classification.js';
export * from './regression.js';
export * from './log-histogram.js';
export * from './score-bins.js';
export * from './isotonic.js';
export * from './calibration.js';
export * from './cbpe.js';
export * from './kpi/expression.js';
export * from './kpi/kpi.js';
