import { Registry } from 'prom-client'
import { SeriesView } from './http-metrics.js'

/**
 * The scrape body: what `registry.metrics()` returns, with the HTTP series (most of the samples)
 * printed by their own formatter instead of prom-client's per-sample label formatting. Falls back
 * to `registry.metrics()` for OpenMetrics registries and registries with default labels.
 *
 * @param unlabelled the name of a metric in `registry` that has no labels of its own (the
 *   in-flight gauge). prom-client has no public getter for a registry's default labels but adds
 *   them to every sample it formats, so that metric's rendering shows whether there are any.
 */
export async function renderMetrics(registry: Registry, unlabelled: string): Promise<string> {
  if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE || registry.getSingleMetric(unlabelled) === undefined) return registry.metrics()
  const metrics = registry.getMetricsAsArray()
  let probe = ''
  const parts = await Promise.all(
    metrics.map(async (metric) => {
      const view: unknown = metric
      if (view instanceof SeriesView) return view.toText()
      const text = await registry.getSingleMetricAsString(metric.name)
      if (metric.name === unlabelled) probe = text
      return text
    }),
  )
  if (probe.includes(`\n${unlabelled}{`)) return registry.metrics()
  return `${parts.join('\n\n')}\n`
}
