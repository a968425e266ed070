import type { Registry } from 'prom-client'
import { DEFAULT_BUCKETS } from './options.js'
import { bucketIndex, escapeLabelValue, SeriesView, type Sample, type SeriesSource } from './http-metrics.js'

/** `fastify.metrics.red(config)`: a counter and a duration histogram of the same labels, observed together. */
export interface RedConfig<T extends string = string> {
  /** The counter (`…_total`): one per observation. */
  total: { name: string; help: string }
  /** The histogram of the observed durations, in seconds. `buckets` defaults to `DEFAULT_BUCKETS`. */
  duration: { name: string; help: string; buckets?: readonly number[] }
  labelNames: readonly T[]
}

/** The two accumulators of one label set. */
export interface RedSeries {
  /** Counts one observation and adds `seconds` to the histogram. Throws a `TypeError` for a value that is not a finite number. */
  observe(seconds: number): void
}

/**
 * What `fastify.metrics.red()` returns. Recording through a kept `RedSeries` is a few additions:
 * no label object, no hashing, no validation per call (prom-client's labelled children check and
 * hash their labels on every `inc()` / `observe()`); the registry formats both metrics at scrape time.
 */
export interface RedMetrics<T extends string = string> {
  readonly labelNames: readonly T[]
  /** The series of one label set (values in `labelNames` order), made on first use. Keep it. */
  labels(...values: string[]): RedSeries
}

class Series implements RedSeries {
  /** The counter's value: observations, plus what `inc()` of the counter's handle added. */
  total = 0
  /** The histogram's count. */
  count = 0
  sum = 0
  readonly buckets: Float64Array

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    /** `a="x",b="y"`, escaped once for the text format. */
    readonly labelText: string,
    private readonly bounds: Float64Array,
  ) {
    this.buckets = new Float64Array(bounds.length + 1)
  }

  observe(seconds: number): void {
    this.total++
    this.time(seconds)
  }

  /** The histogram part of `observe()` only. */
  time(seconds: number): void {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds)) throw new TypeError(`@opskit/metrics: observe() needs a finite number of seconds, got ${String(seconds)}`)
    this.count++
    this.sum += seconds
    const i = bucketIndex(this.bounds, seconds)
    this.buckets[i] = (this.buckets[i] as number) + 1
  }
}

/** The table behind one `red()` pair: its series, and the two registry views over them. */
export class RedTable<T extends string = string> implements RedMetrics<T>, SeriesSource {
  readonly labelNames: readonly T[]
  readonly totalView: SeriesView
  readonly durationView: SeriesView
  private readonly bounds: Float64Array
  private readonly bucketLabels: string[]
  private readonly series = new Map<string, Series>()
  private readonly handles: { counter?: object; histogram?: object } = {}

  constructor(names: { total: string; duration: string }, config: RedConfig<T>) {
    this.labelNames = Object.freeze([...config.labelNames])
    const buckets = config.duration.buckets ?? DEFAULT_BUCKETS
    const increasing = Array.isArray(buckets) && buckets.length > 0 && buckets.every((b, i) => typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > (buckets[i - 1] as number)))
    if (!increasing) throw new TypeError(`@opskit/metrics: red() of ${names.total}: duration.buckets must be a non-empty array of increasing positive numbers (seconds)`)
    this.bounds = Float64Array.from(buckets)
    this.bucketLabels = buckets.map(String)
    this.totalView = new SeriesView(names.total, config.total.help, 'counter', this)
    this.durationView = new SeriesView(names.duration, config.duration.help, 'histogram', this)
  }

  register(registry: Registry): void {
    registry.registerMetric(this.totalView as never)
    registry.registerMetric(this.durationView as never)
  }

  labels(...values: string[]): RedSeries {
    return this.seriesOf(values)
  }

  /** The series of a label set given as an object (`{ service: 'x', … }`), as prom-client's `inc(labels)` takes it. */
  seriesFor(labels: Record<string, unknown> | undefined): Series {
    const given = labels ?? {}
    for (const key of Object.keys(given)) {
      if (!this.labelNames.includes(key as T)) throw new TypeError(`@opskit/metrics: ${this.totalView.name} has no label "${key}"`)
    }
    return this.seriesOf(this.labelNames.map((name) => String(given[name] ?? '')))
  }

  private seriesOf(values: readonly string[]): Series {
    if (values.length !== this.labelNames.length) {
      throw new TypeError(`@opskit/metrics: labels() of ${this.totalView.name} needs ${this.labelNames.length} values (${this.labelNames.join(', ')}), got ${values.length}`)
    }
    const key = values.join('\u0000')
    let series = this.series.get(key)
    if (series === undefined) {
      const labels: Record<string, string> = {}
      let text = ''
      for (let i = 0; i < values.length; i++) {
        const name = this.labelNames[i] as string
        const value = String(values[i])
        labels[name] = value
        text += `${i === 0 ? '' : ','}${name}="${escapeLabelValue(value)}"`
      }
      series = new Series(Object.freeze(labels), text, this.bounds)
      this.series.set(key, series)
    }
    return series
  }

  /**
   * prom-client-shaped handles on the two metrics, for `fastify.metrics.counter()` / `histogram()`
   * asked for a name this pair holds (get-or-create: your code reads and adds to the same series).
   */
  counterHandle(): unknown {
    return (this.handles.counter ??= {
      name: this.totalView.name,
      labelNames: this.labelNames,
      get: () => this.totalView.get(),
      inc: (labels?: Record<string, unknown> | number, value?: number) => {
        const amount = typeof labels === 'number' ? labels : (value ?? 1)
        this.seriesFor(typeof labels === 'object' ? labels : undefined).total += this.increment(amount)
      },
      labels: (...values: string[]) => {
        const series = this.seriesOf(values)
        return { inc: (amount = 1) => void (series.total += this.increment(amount)) }
      },
      reset: () => this.reset(),
    })
  }

  /** What a counter handle's `inc()` may add: a finite number ≥ 0, as prom-client's counters take. */
  private increment(amount: unknown): number {
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
      throw new TypeError(`@opskit/metrics: inc() of ${this.totalView.name} needs a finite number ≥ 0, got ${String(amount)}`)
    }
    return amount
  }

  histogramHandle(): unknown {
    return (this.handles.histogram ??= {
      name: this.durationView.name,
      labelNames: this.labelNames,
      get: () => this.durationView.get(),
      observe: (labels: Record<string, unknown> | number, value?: number) => {
        if (typeof labels === 'number') this.seriesFor(undefined).time(labels)
        else this.seriesFor(labels).time(value as number)
      },
      labels: (...values: string[]) => {
        const series = this.seriesOf(values)
        return { observe: (seconds: number) => series.time(seconds) }
      },
      reset: () => this.reset(),
    })
  }

  /** Zeroes every series in place: a `RedSeries` a caller kept goes on counting into the scrape. */
  reset(): void {
    for (const series of this.series.values()) {
      series.total = 0
      series.count = 0
      series.sum = 0
      series.buckets.fill(0)
    }
  }

  counterText(name: string): string {
    let out = ''
    for (const series of this.series.values()) out += `${out === '' ? '' : '\n'}${name}${series.labelText === '' ? '' : `{${series.labelText}}`} ${series.total}`
    return out
  }

  histogramText(name: string): string {
    const lines: string[] = []
    const les = this.bucketLabels
    for (const series of this.series.values()) {
      // `le` first, as prom-client prints its histograms.
      const labels = series.labelText === '' ? '' : `,${series.labelText}`
      let cumulative = 0
      for (let i = 0; i < les.length; i++) {
        cumulative += series.buckets[i] as number
        lines.push(`${name}_bucket{le="${les[i] as string}"${labels}} ${cumulative}`)
      }
      const plain = series.labelText === '' ? '' : `{${series.labelText}}`
      lines.push(`${name}_bucket{le="+Inf"${labels}} ${series.count}`, `${name}_sum${plain} ${series.sum}`, `${name}_count${plain} ${series.count}`)
    }
    return lines.join('\n')
  }

  counterValues(): Sample[] {
    return [...this.series.values()].map((series) => ({ labels: { ...series.labels }, value: series.total }))
  }

  histogramValues(name: string): Sample[] {
    const values: Sample[] = []
    const les = this.bucketLabels
    for (const series of this.series.values()) {
      let cumulative = 0
      for (let i = 0; i < les.length; i++) {
        cumulative += series.buckets[i] as number
        values.push({ metricName: `${name}_bucket`, labels: { le: les[i] as string, ...series.labels }, value: cumulative })
      }
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', ...series.labels }, value: series.count })
      values.push({ metricName: `${name}_sum`, labels: { ...series.labels }, value: series.sum })
      values.push({ metricName: `${name}_count`, labels: { ...series.labels }, value: series.count })
    }
    return values
  }
}
