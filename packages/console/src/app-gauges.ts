import { OPSKIT_METRICS, type MetricsApi } from '@opskit/metrics'

export interface AppMetric {
  name: string
  help: string
  type: 'gauge' | 'counter'
  values: { labels: Record<string, string | number>; value: number }[]
}

/** What opskit itself publishes (besides `OPSKIT_METRICS`): HTTP RED metrics, process metrics, alerts, outbound calls. */
const OPSKIT_NAMES = ['http_requests_total', 'http_request_duration_seconds', 'http_requests_in_flight', 'rate_limit_shadow_rejections_total']
const OPSKIT_NAME_PREFIXES = ['process_', 'nodejs_', 'alerts_', 'http_client_']

/** True for a metric of the app itself (its business numbers), false for one opskit publishes. */
export function isAppMetric(name: string, prefix: string): boolean {
  if (!name.startsWith(prefix)) return true
  const bare = name.slice(prefix.length)
  if (OPSKIT_NAMES.includes(bare)) return false
  if (Object.values(OPSKIT_METRICS).some((metric) => metric.name === bare)) return false
  return !OPSKIT_NAME_PREFIXES.some((start) => bare.startsWith(start))
}

/**
 * The app's own gauges and counters, read from the registry now (a gauge's async `collect` runs,
 * as at a scrape). Histograms and summaries are left to Prometheus.
 */
export async function readAppMetrics(metrics: MetricsApi): Promise<AppMetric[]> {
  const out: AppMetric[] = []
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const name = metric.name
    const type = String(metric.type)
    const live = metrics.registry.getSingleMetric(name)
    if ((type !== 'gauge' && type !== 'counter') || live === undefined || !isAppMetric(name, metrics.prefix)) continue
    const data = await live.get()
    out.push({
      name,
      help: data.help,
      type,
      values: data.values.map((v) => ({ labels: { ...(v.labels as Record<string, string | number>) }, value: v.value })),
    })
  }
  return out.sort((a, b) => a.name.localeCompare(b.name))
}
