import type { Registry } from 'prom-client'

/** The latest traced request counted in one bucket: an OpenMetrics exemplar `{trace_id="…"}`. */
export interface BucketExemplar {
  labelSet: { trace_id: string }
  /** The observed duration, seconds. */
  value: number
  /** Unix time of the observation, seconds. */
  timestamp: number
}

/** One exported sample, in the shape prom-client's `Registry` formats. */
export interface Sample {
  labels: Record<string, string>
  value: number
  metricName?: string
  exemplar?: BucketExemplar
}

/** The route label of requests that matched no route (404 handler): one series, whatever the URL. */
export const UNMATCHED_ROUTE = 'unmatched'

/** Accumulators of one `{method, route, status_code}` series. */
interface Series {
  readonly method: string
  readonly statusCode: number
  readonly labels: { method: string; route: string; status_code: string }
  /** `method="GET",route="/users/:id",status_code="200"`, escaped once for the text format. */
  readonly labelText: string
  count: number
  /** Sum of observed durations, seconds. */
  sum: number
  /** Non-cumulative counts per bucket; the last slot is the +Inf overflow. */
  readonly buckets: Float64Array
  /** Per bucket (non-cumulative slots), the latest traced observation; `null` until a traced request. */
  exemplars: (BucketExemplar | undefined)[] | null
}

/** Every series of one route template. Routes hold their own, so the hot path never builds a key. */
export interface RouteSeries {
  readonly route: string
  last: Series | null
  readonly byKey: Map<string, Series>
}

type MetricType = 'counter' | 'histogram'

/** The (non-cumulative) bucket slot of an observation: the first upper bound it does not exceed, else the +Inf slot. */
export function bucketIndex(bounds: Float64Array, seconds: number): number {
  let i = 0
  while (i < bounds.length && seconds > (bounds[i] as number)) i++
  return i
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

/** What a `SeriesView` reads: a table of plain accumulators holding a counter and a histogram of the same series. */
export interface SeriesSource {
  counterValues(): Sample[]
  histogramValues(name: string): Sample[]
  counterText(name: string): string
  histogramText(name: string): string
  reset(): void
}

/**
 * A metric view the prom-client `Registry` can scrape (same shape as prom-client's own metrics:
 * `name`, `help`, `type`, `aggregator`, `get()`, `reset()`), backed by a shared series table.
 */
export class SeriesView {
  readonly aggregator = 'sum' as const
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly table: SeriesSource,
  ) {}

  async get(): Promise<{ name: string; help: string; type: MetricType; aggregator: 'sum'; values: Sample[] }> {
    const values = this.type === 'counter' ? this.table.counterValues() : this.table.histogramValues(this.name)
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    this.table.reset()
  }

  /** This metric in the Prometheus text format, exactly as the registry would print it, built
   * from label text escaped once per series: a scrape with many routes stays cheap. */
  toText(): string {
    const head = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}`
    const body = this.type === 'counter' ? this.table.counterText(this.name) : this.table.histogramText(this.name)
    return body === '' ? head : `${head}\n${body}`
  }
}

/**
 * The HTTP RED metrics of one Fastify instance: `http_requests_total` and
 * `http_request_duration_seconds` read the same plain accumulators, so recording a request is a
 * few additions (no label objects, no hashing, no closures); prom-client formats them at scrape time.
 */
export class HttpSeriesTable implements SeriesSource {
  private readonly routes = new Map<string, RouteSeries>()
  private readonly upperBounds: Float64Array
  private readonly bucketLabels: string[]

  constructor(buckets: number[]) {
    this.upperBounds = Float64Array.from(buckets)
    this.bucketLabels = buckets.map(String)
  }

  /** Registers `<prefix>http_requests_total` and `<prefix>http_request_duration_seconds` in `registry`. */
  register(registry: Registry, prefix: string): void {
    registry.registerMetric(new SeriesView(`${prefix}http_requests_total`, 'HTTP requests by method, route template and status code.', 'counter', this) as never)
    registry.registerMetric(new SeriesView(`${prefix}http_request_duration_seconds`, 'HTTP request duration in seconds by method, route template and status code.', 'histogram', this) as never)
  }

  /** The series holder of a route template; made once per route at registration. */
  route(template: string): RouteSeries {
    let state = this.routes.get(template)
    if (state === undefined) {
      state = { route: template, last: null, byKey: new Map() }
      this.routes.set(template, state)
    }
    return state
  }

  /** Counts one finished request. `elapsedMs` is `reply.elapsedTime`; `traceId` (a traced request) becomes its bucket's exemplar. */
  record(state: RouteSeries, method: string, statusCode: number, elapsedMs: number, traceId?: string): void {
    let series = state.last
    if (series === null || series.statusCode !== statusCode || series.method !== method) {
      series = this.find(state, method, statusCode)
      state.last = series
    }
    const seconds = elapsedMs / 1000
    series.count++
    series.sum += seconds
    const bounds = this.upperBounds
    const i = bucketIndex(bounds, seconds)
    series.buckets[i] = (series.buckets[i] as number) + 1
    if (traceId !== undefined) {
      const exemplars = (series.exemplars ??= new Array<BucketExemplar | undefined>(bounds.length + 1))
      const exemplar = exemplars[i]
      // One object per bucket, updated in place: a traced request allocates nothing here.
      if (exemplar === undefined) exemplars[i] = { labelSet: { trace_id: traceId }, value: seconds, timestamp: Date.now() / 1000 }
      else {
        exemplar.labelSet.trace_id = traceId
        exemplar.value = seconds
        exemplar.timestamp = Date.now() / 1000
      }
    }
  }

  private find(state: RouteSeries, method: string, statusCode: number): Series {
    const key = `${method} ${statusCode}`
    let series = state.byKey.get(key)
    if (series === undefined) {
      series = {
        method,
        statusCode,
        labels: { method, route: state.route, status_code: String(statusCode) },
        labelText: `method="${escapeLabelValue(method)}",route="${escapeLabelValue(state.route)}",status_code="${statusCode}"`,
        count: 0,
        sum: 0,
        buckets: new Float64Array(this.upperBounds.length + 1),
        exemplars: null,
      }
      state.byKey.set(key, series)
    }
    return series
  }

  reset(): void {
    for (const state of this.routes.values()) {
      state.byKey.clear()
      state.last = null
    }
  }

  counterText(name: string): string {
    let out = ''
    for (const state of this.routes.values()) {
      for (const series of state.byKey.values()) out += `${out === '' ? '' : '\n'}${name}{${series.labelText}} ${series.count}`
    }
    return out
  }

  histogramText(name: string): string {
    const lines: string[] = []
    const les = this.bucketLabels
    for (const state of this.routes.values()) {
      for (const series of state.byKey.values()) {
        const labels = series.labelText
        let cumulative = 0
        for (let i = 0; i < les.length; i++) {
          cumulative += series.buckets[i] as number
          lines.push(`${name}_bucket{${labels},le="${les[i] as string}"} ${cumulative}`)
        }
        lines.push(`${name}_bucket{${labels},le="+Inf"} ${series.count}`, `${name}_sum{${labels}} ${series.sum}`, `${name}_count{${labels}} ${series.count}`)
      }
    }
    return lines.join('\n')
  }

  counterValues(): Sample[] {
    const values: Sample[] = []
    for (const state of this.routes.values()) {
      for (const series of state.byKey.values()) values.push({ labels: series.labels, value: series.count })
    }
    return values
  }

  histogramValues(name: string): Sample[] {
    const values: Sample[] = []
    const bucketName = `${name}_bucket`
    const labels = this.bucketLabels
    for (const state of this.routes.values()) {
      for (const series of state.byKey.values()) {
        const { method, route, status_code } = series.labels
        const exemplars = series.exemplars
        let cumulative = 0
        for (let i = 0; i < labels.length; i++) {
          cumulative += series.buckets[i] as number
          const sample: Sample = { metricName: bucketName, labels: { method, route, status_code, le: labels[i] as string }, value: cumulative }
          const exemplar = exemplars?.[i]
          if (exemplar !== undefined) sample.exemplar = exemplar
          values.push(sample)
        }
        const overflow: Sample = { metricName: bucketName, labels: { method, route, status_code, le: '+Inf' }, value: series.count }
        const overflowExemplar = exemplars?.[labels.length]
        if (overflowExemplar !== undefined) overflow.exemplar = overflowExemplar
        values.push(overflow)
        values.push({ metricName: `${name}_sum`, labels: series.labels, value: series.sum })
        values.push({ metricName: `${name}_count`, labels: series.labels, value: series.count })
      }
    }
    return values
  }
}
