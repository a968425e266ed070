export { opskitMetrics, default } from './plugin.js'
export { DEFAULT_BUCKETS } from './options.js'
export {
  FST_OPSKIT_METRICS_INVALID_OPTION,
  FST_METRICS_INVALID_OPTION,
  FST_OPSKIT_METRICS_INVALID_METRIC,
  FST_OPSKIT_METRICS_METRIC_CONFLICT,
} from './errors.js'
export type { OpskitMetricsOptions, MetricsAuthOptions } from './options.js'
export { UNMATCHED_ROUTE } from './http-metrics.js'
export { REJECTED_DEFAULT_METRICS } from './default-metrics.js'
export { OPSKIT_METRICS } from './known-metrics.js'
export type { MetricsApi, CounterConfig, GaugeConfig, HistogramConfig, SummaryConfig } from './metrics-api.js'
export type { RedConfig, RedMetrics, RedSeries } from './red-metrics.js'
export { metricsOf } from './metrics-of.js'
// One label-cap rule for every opskit package: core's (no prom-client needed), re-exported here.
export { labelCap, OVERFLOW_LABEL } from '@opskit/core'
