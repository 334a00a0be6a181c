/** Common surface of the online detectors (River's `DriftDetector`): one value at a time. */
export interface OnlineDetector<S> {
  update(x: number): this;
  readonly driftDetected: boolean;
  /** Plain-data state for checkpointing; `fromState` of the same class restores it exactly. */
  toState(): S;
}
