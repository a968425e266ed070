import { Counter, Gauge, Histogram, Summary } from 'prom-client'
import { FST_OPSKIT_METRICS_INVALID_METRIC, FST_OPSKIT_METRICS_METRIC_CONFLICT } from './errors.js'
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration, Registry, SummaryConfiguration } from 'prom-client'

/** A metric config for the helpers: prom-client's, without `registers` (always this instance's registry). */
export type CounterConfig<T extends string> = Omit<CounterConfiguration<T>, 'registers'>
export type GaugeConfig<T extends string> = Omit<GaugeConfiguration<T>, 'registers'>
export type HistogramConfig<T extends string> = Omit<HistogramConfiguration<T>, 'registers'>
export type SummaryConfig<T extends string> = Omit<SummaryConfiguration<T>, 'registers'>

/** `fastify.metrics`: get-or-create helpers over this instance's registry; the prefix is added to every name. */
export interface MetricsApi {
  /** This Fastify instance's prom-client registry. */
  readonly registry: Registry
  /** The prefix the helpers add to every name (`''` when none). */
  readonly prefix: string
  counter<T extends string = string>(config: CounterConfig<T>): Counter<T>
  /** A gauge; an async `collect` runs at scrape time (a failing one keeps its last value and logs a warning). */
  gauge<T extends string = string>(config: GaugeConfig<T>): Gauge<T>
  histogram<T extends string = string>(config: HistogramConfig<T>): Histogram<T>
  summary<T extends string = string>(config: SummaryConfig<T>): Summary<T>
}

type MetricClass = typeof Counter | typeof Gauge | typeof Histogram | typeof Summary

interface WarnLogger {
  warn(obj: object, msg: string): void
}

function sameLabels(existing: readonly string[] | undefined, wanted: readonly string[] | undefined): boolean {
  const a = [...(existing ?? [])].sort()
  const b = [...(wanted ?? [])].sort()
  return a.length === b.length && a.every((name, i) => name === b[i])
}

/**
 * Builds `fastify.metrics`. Each helper is GET-OR-CREATE by (prefixed) name: the second call with
 * the same name returns the first metric, so plugins can ask for their metrics lazily. A name
 * already taken by another metric type, or with other label names, throws.
 */
export function createMetricsApi(registry: Registry, prefix: string, log: WarnLogger): MetricsApi {
  function getOrCreate<M>(Kind: MetricClass, kind: string, config: { name: string; labelNames?: readonly string[] }, make: (name: string) => M): M {
    if (config === null || typeof config !== 'object' || typeof config.name !== 'string' || config.name.length === 0) {
      throw new FST_OPSKIT_METRICS_INVALID_METRIC(kind)
    }
    const name = prefix + config.name
    const existing = registry.getSingleMetric(name)
    if (existing === undefined) return make(name)
    if (!(existing instanceof Kind)) {
      throw new FST_OPSKIT_METRICS_METRIC_CONFLICT(name, `as another type, not a ${kind}`)
    }
    if (!sameLabels((existing as unknown as { labelNames?: string[] }).labelNames, config.labelNames)) {
      throw new FST_OPSKIT_METRICS_METRIC_CONFLICT(name, 'with other label names')
    }
    return existing as unknown as M
  }

  return {
    registry,
    prefix,
    counter: (config) => getOrCreate(Counter, 'counter', config, (name) => new Counter({ ...config, name, registers: [registry] })),
    gauge: (config) =>
      getOrCreate(Gauge, 'gauge', config, (name) => {
        const collect = config.collect
        if (collect === undefined) return new Gauge({ ...config, name, registers: [registry] })
        // A business gauge whose query fails must not fail the whole scrape: keep the last value.
        return new Gauge({
          ...config,
          name,
          registers: [registry],
          async collect() {
            try {
              await collect.call(this)
            } catch (err) {
              log.warn({ err, metric: name }, 'metrics: collect() of a gauge failed; the scrape keeps its last value')
            }
          },
        })
      }),
    histogram: (config) => getOrCreate(Histogram, 'histogram', config, (name) => new Histogram({ ...config, name, registers: [registry] })),
    summary: (config) => getOrCreate(Summary, 'summary', config, (name) => new Summary({ ...config, name, registers: [registry] })),
  }
}
