import { Counter, Gauge, Histogram, Summary } from 'prom-client'
import { FST_OPSKIT_METRICS_INVALID_METRIC, FST_OPSKIT_METRICS_METRIC_CONFLICT } from './errors.js'
import { SeriesView } from './http-metrics.js'
import { RedTable, type RedConfig, type RedMetrics } from './red-metrics.js'
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
  /**
   * A counter and a duration histogram over the same labels, observed together through a kept
   * series (`red(config).labels(...values).observe(seconds)`): a few additions per observation,
   * for what is counted on every request or call. Get-or-create by the counter's name.
   */
  red<T extends string = string>(config: RedConfig<T>): RedMetrics<T>
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
    const view: unknown = existing
    const red = view instanceof SeriesView && view.table instanceof RedTable ? view.table : undefined
    if (red !== undefined && (kind === 'counter' ? red.totalView : kind === 'histogram' ? red.durationView : undefined) === view) {
      // One of a red() pair: a handle on the same series.
      if (!sameLabels(red.labelNames, config.labelNames)) throw new FST_OPSKIT_METRICS_METRIC_CONFLICT(name, 'with other label names')
      return (kind === 'counter' ? red.counterHandle() : red.histogramHandle()) as M
    }
    if (!(existing instanceof Kind)) {
      throw new FST_OPSKIT_METRICS_METRIC_CONFLICT(name, `as another type, not a ${kind}`)
    }
    if (!sameLabels((existing as unknown as { labelNames?: string[] }).labelNames, config.labelNames)) {
      throw new FST_OPSKIT_METRICS_METRIC_CONFLICT(name, 'with other label names')
    }
    return existing as unknown as M
  }

  function red<T extends string>(config: RedConfig<T>): RedMetrics<T> {
    const named = (part: { name?: unknown } | undefined): part is { name: string } => typeof part?.name === 'string' && part.name.length > 0
    if (config === null || typeof config !== 'object' || !named(config.total) || !named(config.duration) || !Array.isArray(config.labelNames)) {
      throw new FST_OPSKIT_METRICS_INVALID_METRIC('red')
    }
    const names = { total: prefix + config.total.name, duration: prefix + config.duration.name }
    const existing: unknown = registry.getSingleMetric(names.total)
    const existingDuration: unknown = registry.getSingleMetric(names.duration)
    if (existing === undefined && existingDuration === undefined) {
      const table = new RedTable<T>(names, config)
      table.register(registry)
      return table
    }
    if (existing instanceof SeriesView && existing.table instanceof RedTable && existing.table.durationView === existingDuration) {
      if (!sameLabels(existing.table.labelNames, config.labelNames)) throw new FST_OPSKIT_METRICS_METRIC_CONFLICT(names.total, 'with other label names')
      return existing.table as RedMetrics<T>
    }
    // Your code registered the two as prom-client metrics first (counter() / histogram()): they are
    // counted through prom-client's labelled children, so the metric objects you hold stay the ones counted.
    const counter = getOrCreate(Counter, 'counter', { name: config.total.name, labelNames: config.labelNames }, (name) => new Counter({ ...config.total, name, labelNames: [...config.labelNames], registers: [registry] }))
    const histogram = getOrCreate(Histogram, 'histogram', { name: config.duration.name, labelNames: config.labelNames }, (name) => new Histogram({ ...config.duration, buckets: config.duration.buckets === undefined ? undefined : [...config.duration.buckets], name, labelNames: [...config.labelNames], registers: [registry] }))
    return {
      labelNames: config.labelNames,
      labels(...values) {
        const count = counter.labels(...values)
        const time = histogram.labels(...values)
        return {
          observe(seconds) {
            count.inc()
            time.observe(seconds)
          },
        }
      },
    }
  }

  return {
    registry,
    prefix,
    red,
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
