import { collectDefaultMetrics } from 'prom-client'
import type { Registry } from 'prom-client'

/**
 * prom-client's gauges whose names end in `_total`, which `promtool check metrics` rejects
 * ("non-counter metrics should not have _total suffix"). Each only sums its labelled sibling
 * (`nodejs_active_handles{type}` …), so nothing is lost: `sum(nodejs_active_handles)`.
 */
export const REJECTED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const

/** prom-client's process metrics in `registry`, minus the three that fail `promtool check metrics`. */
export function registerDefaultMetrics(registry: Registry, prefix: string): void {
  // A registry the caller passed may hold them already (a second app on the same registry).
  if (registry.getSingleMetric(`${prefix}process_cpu_user_seconds_total`) !== undefined) return
  collectDefaultMetrics({ register: registry, prefix })
  for (const name of REJECTED_DEFAULT_METRICS) registry.removeSingleMetric(`${prefix}${name}`)
}
