import type { MetricsApi } from '@opskit/metrics'
import type { CheckRegistry } from './check-registry.js'

/**
 * `health_check_status{check}` (1 ok, 0 failed) and `health_check_duration_seconds{check}`, read at
 * scrape time from a readiness run (cached and shared like every other run), so a failing check
 * shows in Prometheus even when no load balancer probes this instance.
 */
export function publishHealthMetrics(metrics: MetricsApi, registry: CheckRegistry): void {
  metrics.gauge({
    name: 'health_check_status',
    help: 'Result of the last run of a health check (1 ok, 0 failed).',
    labelNames: ['check'],
    async collect() {
      const report = await registry.run()
      this.reset()
      for (const name of Object.keys(report.services)) this.set({ check: name }, report.services[name]?.status === 'ok' ? 1 : 0)
    },
  })
  metrics.gauge({
    name: 'health_check_duration_seconds',
    help: 'Duration of the last run of a health check, in seconds.',
    labelNames: ['check'],
    async collect() {
      const report = await registry.run()
      this.reset()
      for (const name of Object.keys(report.services)) this.set({ check: name }, (report.services[name]?.latency_ms ?? 0) / 1000)
    },
  })
}
