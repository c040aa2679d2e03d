/**
 * Exports the core's metrics through an OpenTelemetry Meter (`@opentelemetry/api`):
 * observable counters (named without `_total`) and gauges, and `<name>_count` /
 * `<name>_sum` observable counters per histogram, read by one batch callback.
 */
export declare function registerAuthcoreOtelMetrics(meter: {
  createObservableCounter(name: string, options?: { description?: string; unit?: string }): unknown
  createObservableGauge(name: string, options?: { description?: string; unit?: string }): unknown
  addBatchObservableCallback(callback: (result: unknown) => void, observables: unknown[]): void
  removeBatchObservableCallback(callback: (result: unknown) => void, observables: unknown[]): void
}): { instruments: unknown[]; unregister(): void }
