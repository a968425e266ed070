import { collectDefaultMetrics, Registry } from 'prom-client'
import type { Metric } from 'prom-client'

/**
 * prom-client's gauges whose names end in `_total`, which `promtool check metrics` rejects
 * ("non-counter metrics should not have _total suffix"). Each only sums its labelled sibling
 * (`nodejs_active_handles{type}` …), so nothing is lost: `sum(nodejs_active_handles)`.
 */
export const REJECTED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const

/**
 * prom-client's process metrics, collected once per process and prefix. `collectDefaultMetrics()`
 * starts an event-loop-delay monitor (sampling every 10 ms) and a GC `PerformanceObserver` that it
 * never stops, so calling it for every Fastify instance (a test suite builds one per test) would
 * leave one more of each running after every `close()`. They describe the process, not the
 * instance, so every instance's registry holds the same metric objects.
 */
const processMetrics = new Map<string, Registry>()

function processMetricsFor(prefix: string): Registry {
  let source = processMetrics.get(prefix)
  if (source === undefined) {
    source = new Registry()
    collectDefaultMetrics({ register: source, prefix })
    for (const name of REJECTED_DEFAULT_METRICS) source.removeSingleMetric(`${prefix}${name}`)
    processMetrics.set(prefix, source)
  }
  return source
}

/** prom-client's process metrics in `registry`, minus the three that fail `promtool check metrics`. */
export function registerDefaultMetrics(registry: Registry, prefix: string): void {
  // A registry the caller passed may hold them already (their own, or a second app on it).
  if (registry.getSingleMetric(`${prefix}process_cpu_user_seconds_total`) !== undefined) return
  // getMetricsAsArray() is typed as plain objects; they are the Metric instances themselves.
  for (const metric of processMetricsFor(prefix).getMetricsAsArray()) registry.registerMetric(metric as unknown as Metric)
}
