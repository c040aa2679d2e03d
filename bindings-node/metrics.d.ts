/** Prometheus text exposition (format 0.0.4) of every core metric of this process. */
export declare function metricsText(): string
export interface MetricsSample {
  labels: Array<[string, string]>
  value: number
  histogram?: { buckets: Array<[number, number]>; count: number; sum: number }
}
export interface MetricsFamily {
  name: string
  help: string
  kind: 'counter' | 'gauge' | 'histogram'
  samples: MetricsSample[]
}
/** Every family as data (the `+Inf` bucket of a histogram is its `count`). */
export declare function metricsSnapshot(): MetricsFamily[]
/** Turn hot-path recording on (the default) or off for the whole process. */
export declare function metricsSetEnabled(enabled: boolean): void
/** @deprecated The core's name is `metricsSetEnabled` (`metrics::set_enabled`); the same function. */
export declare const setMetricsEnabled: typeof metricsSetEnabled
/** A prom-client metric reading one core family at each scrape. */
export declare class AuthcoreMetric {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  readonly aggregator: 'sum'
  get(): Promise<{ name: string; help: string; type: string; values: unknown[]; aggregator: 'sum' }>
  reset(): void
}
/** Registers every core family with a prom-client Registry (e.g. `client.register`). */
export declare function registerAuthcoreMetrics(registry: { registerMetric(metric: unknown): void }): AuthcoreMetric[]
