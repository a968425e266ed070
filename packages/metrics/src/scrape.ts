import { Registry } from 'prom-client'
import { SeriesView } from './http-metrics.js'

function hasDefaultLabels(registry: Registry): boolean {
  const labels = (registry as unknown as { _defaultLabels?: Record<string, unknown> })._defaultLabels
  return labels === undefined || Object.keys(labels).length > 0
}

/**
 * The scrape body: what `registry.metrics()` returns, with the HTTP series (most of the samples)
 * printed by their own formatter instead of prom-client's per-sample label formatting. Falls back
 * to `registry.metrics()` for OpenMetrics registries and registries with default labels.
 */
export async function renderMetrics(registry: Registry): Promise<string> {
  if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE || hasDefaultLabels(registry)) return registry.metrics()
  const metrics = registry.getMetricsAsArray()
  const parts = await Promise.all(
    metrics.map((metric) => {
      const view: unknown = metric
      return view instanceof SeriesView ? view.toText() : registry.getSingleMetricAsString(metric.name)
    }),
  )
  return `${parts.join('\n\n')}\n`
}
