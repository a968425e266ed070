import type { MetricsApi } from '@opskit/metrics'
import { histogramQuantile, type Buckets } from './histogram-quantile.js'

/** One `{method, route, status_code}` series of `http_request_duration_seconds` at one instant. */
interface SeriesSnapshot {
  method: string
  route: string
  status: number
  counts: number[]
}

/** The metrics registry read at one instant: request histograms and rate-limit rejections. */
export interface Snapshot {
  at: number
  bounds: number[]
  series: Map<string, SeriesSnapshot>
  rejections: Map<string, number>
}

export interface MinutePoint {
  /** ISO time of the end of the minute (the last point ends now and may be partial). */
  at: string
  requests: number
  errors_5xx: number
  p50_ms: number | null
  p95_ms: number | null
  p99_ms: number | null
}

export interface RouteRow {
  method: string
  route: string
  requests: number
  errors_5xx: number
  p50_ms: number | null
  p95_ms: number | null
  p99_ms: number | null
}

export interface RejectionRow {
  route: string
  /** Since the process started. */
  total: number
  /** Inside the hour the console keeps. */
  last_hour: number
}

interface Sample {
  labels: Record<string, string | number>
  value: number
  metricName?: string
}

/** Snapshots kept: one a minute for an hour, plus the one the hour starts from. */
export const RING_SIZE = 61
export const SAMPLE_EVERY_MS = 60_000

async function samplesOf(metrics: MetricsApi, name: string): Promise<Sample[]> {
  const metric = metrics.registry.getSingleMetric(metrics.prefix + name)
  if (metric === undefined) return []
  const data = await metric.get()
  return data.values as Sample[]
}

/** Reads the registry: the duration histogram (cumulative buckets per series) and the rejection counter. */
export async function takeSnapshot(metrics: MetricsApi): Promise<Snapshot> {
  const at = Date.now()
  const durationName = `${metrics.prefix}http_request_duration_seconds`
  const bucketName = `${durationName}_bucket`
  const series = new Map<string, SeriesSnapshot>()
  const boundsSeen: number[] = []
  for (const sample of await samplesOf(metrics, 'http_request_duration_seconds')) {
    if (sample.metricName !== bucketName) continue
    const { method, route, status_code: status, le } = sample.labels
    const key = `${method} ${route} ${status}`
    let entry = series.get(key)
    if (entry === undefined) {
      entry = { method: String(method), route: String(route), status: Number(status), counts: [] }
      series.set(key, entry)
    }
    entry.counts.push(sample.value)
    if (le !== '+Inf' && series.size === 1) boundsSeen.push(Number(le))
  }
  const rejections = new Map<string, number>()
  for (const sample of await samplesOf(metrics, 'rate_limit_rejections_total')) {
    const route = String(sample.labels.route ?? '')
    rejections.set(route, (rejections.get(route) ?? 0) + sample.value)
  }
  return { at, bounds: boundsSeen, series, rejections }
}

function deltaCounts(now: number[], before: number[] | undefined): number[] {
  if (before === undefined || before.length !== now.length) return now.slice()
  const out = now.map((value, i) => value - (before[i] as number))
  // A registry reset (counts went down): the series started again from zero.
  return out.some((value) => value < 0) ? now.slice() : out
}

function addInto(target: number[], counts: number[]): void {
  for (let i = 0; i < counts.length; i++) target[i] = (target[i] ?? 0) + (counts[i] as number)
}

function quantiles(bounds: number[], counts: number[]): Pick<MinutePoint, 'p50_ms' | 'p95_ms' | 'p99_ms'> {
  const buckets: Buckets = { bounds, counts }
  return { p50_ms: histogramQuantile(0.5, buckets), p95_ms: histogramQuantile(0.95, buckets), p99_ms: histogramQuantile(0.99, buckets) }
}

/** Traffic between two snapshots, all routes together. */
function minuteBetween(before: Snapshot | undefined, after: Snapshot): MinutePoint {
  const counts: number[] = []
  let errors = 0
  for (const [key, series] of after.series) {
    const delta = deltaCounts(series.counts, before?.series.get(key)?.counts)
    addInto(counts, delta)
    if (series.status >= 500) errors += delta[delta.length - 1] ?? 0
  }
  return { at: new Date(after.at).toISOString(), requests: counts[counts.length - 1] ?? 0, errors_5xx: errors, ...quantiles(after.bounds, counts) }
}

/**
 * An hour of the metrics registry, one snapshot a minute (taken on an unref'd timer, so requests
 * pay nothing for it); the last, partial minute is read live when someone asks.
 */
export class TrafficRing {
  readonly #snapshots: Snapshot[] = []

  push(snapshot: Snapshot): void {
    this.#snapshots.push(snapshot)
    if (this.#snapshots.length > RING_SIZE) this.#snapshots.shift()
  }

  get size(): number {
    return this.#snapshots.length
  }

  /** Per minute for the last hour, oldest first, ending with the minute in progress (`live`). */
  minutes(live: Snapshot): MinutePoint[] {
    const points: MinutePoint[] = []
    const all = [...this.#snapshots, live]
    for (let i = 1; i < all.length; i++) points.push(minuteBetween(all[i - 1], all[i] as Snapshot))
    return points.slice(-60)
  }

  /** Per route (and method) over the hour: requests, 5xx and percentiles; busiest first. */
  routes(live: Snapshot): RouteRow[] {
    const oldest = this.#snapshots[0]
    const rows = new Map<string, { method: string; route: string; counts: number[]; errors: number }>()
    for (const [key, series] of live.series) {
      const delta = deltaCounts(series.counts, oldest?.series.get(key)?.counts)
      const total = delta[delta.length - 1] ?? 0
      if (total === 0) continue
      const rowKey = `${series.method} ${series.route}`
      let row = rows.get(rowKey)
      if (row === undefined) {
        row = { method: series.method, route: series.route, counts: [], errors: 0 }
        rows.set(rowKey, row)
      }
      addInto(row.counts, delta)
      if (series.status >= 500) row.errors += total
    }
    return [...rows.values()]
      .map((row) => ({ method: row.method, route: row.route, requests: row.counts[row.counts.length - 1] ?? 0, errors_5xx: row.errors, ...quantiles(live.bounds, row.counts) }))
      .sort((a, b) => b.requests - a.requests || a.route.localeCompare(b.route))
  }

  /** `rate_limit_rejections_total` by route: since start and inside the hour. */
  rejections(live: Snapshot): RejectionRow[] {
    const oldest = this.#snapshots[0]
    return [...live.rejections]
      .map(([route, total]) => {
        const before = oldest?.rejections.get(route) ?? 0
        return { route, total, last_hour: total >= before ? total - before : total }
      })
      .sort((a, b) => b.last_hour - a.last_hour || b.total - a.total)
  }
}
