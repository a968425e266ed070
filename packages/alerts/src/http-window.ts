import type { Registry } from 'prom-client'

interface Sample {
  at: number
  errors: number
  /** Cumulative bucket counts by upper bound (seconds; `Infinity` last). */
  buckets: Map<number, number>
}

interface MetricValue {
  labels: Record<string, string | number>
  value: number
  metricName?: string
}

/** What the HTTP metrics say about the last `windowMs`. */
export interface HttpWindow {
  /** Responses ≥ 500 inside the window. */
  errors: number
  /** Requests inside the window. */
  requests: number
  /** Interpolated p95 of request duration inside the window, seconds (`undefined` with no request). */
  p95: number | undefined
}

async function valuesOf(registry: Registry, name: string): Promise<MetricValue[]> {
  const metric = registry.getSingleMetric(name)
  if (metric === undefined) return []
  const data = (await metric.get()) as { values: MetricValue[] }
  return data.values
}

/**
 * Reads `http_requests_total` and `http_request_duration_seconds` from the registry at each
 * evaluation and keeps a few samples, so a window's numbers are differences of counters the
 * metrics plugin already keeps: nothing is added to the request path.
 */
export class HttpWindowReader {
  readonly #samples: Sample[] = []
  constructor(
    private readonly registry: Registry,
    private readonly prefix: string,
  ) {}

  /** Takes this evaluation's sample; `keepMs` is the longest window asked for later. */
  async sample(now: number, keepMs: number): Promise<void> {
    const [counters, histogram] = await Promise.all([
      valuesOf(this.registry, `${this.prefix}http_requests_total`),
      valuesOf(this.registry, `${this.prefix}http_request_duration_seconds`),
    ])
    let errors = 0
    for (const v of counters) if (Number(v.labels.status_code) >= 500) errors += v.value
    const buckets = new Map<number, number>()
    for (const v of histogram) {
      if (!v.metricName?.endsWith('_bucket')) continue
      const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le)
      buckets.set(le, (buckets.get(le) ?? 0) + v.value)
    }
    // Keep the newest sample at least keepMs old (a baseline for the longest window) and what follows.
    let keepFrom = 0
    for (let i = 0; i < this.#samples.length; i++) if (this.#samples[i]!.at <= now - keepMs) keepFrom = i
    if (keepFrom > 0) this.#samples.splice(0, keepFrom)
    this.#samples.push({ at: now, errors, buckets: new Map([...buckets].sort((a, b) => a[0] - b[0])) })
  }

  /** The last `windowMs` up to the latest sample (before a sample that old exists: since the first). */
  window(windowMs: number): HttpWindow {
    const current = this.#samples[this.#samples.length - 1]
    if (current === undefined) return { errors: 0, requests: 0, p95: undefined }
    let base: Sample | undefined
    for (const sample of this.#samples) if (sample.at <= current.at - windowMs) base = sample
    const delta = [...current.buckets].map(([le, count]) => [le, count - (base?.buckets.get(le) ?? 0)] as const)
    const requests = delta.length > 0 ? delta[delta.length - 1]![1] : 0
    return { errors: current.errors - (base?.errors ?? 0), requests, p95: quantile(0.95, delta, requests) }
  }
}

/** `histogram_quantile` as Prometheus computes it: linear inside the bucket holding the rank. */
function quantile(q: number, buckets: ReadonlyArray<readonly [number, number]>, total: number): number | undefined {
  if (total <= 0) return undefined
  const rank = q * total
  let prevLe = 0
  let prevCount = 0
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe
      return prevLe + (le - prevLe) * ((rank - prevCount) / Math.max(count - prevCount, 1))
    }
    prevLe = le
    prevCount = count
  }
  return prevLe
}
