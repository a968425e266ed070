import type { FastifyInstance } from 'fastify'
import type { MetricsApi } from '@opskit/metrics'

/** Distinct `service` label values; calls to further unnamed hosts count as `service="other"`. */
export const MAX_SERVICE_LABELS = 200

export interface OutboundMetrics {
  observe(service: string, method: string, statusCode: string, seconds: number): void
}

/**
 * `http_client_requests_total{service,method,status_code}` and
 * `http_client_request_duration_seconds{service,method,status_code}` through `fastify.metrics`
 * (from `@opskit/metrics`, when registered; call from `onReady`), else null.
 */
export function createOutboundMetrics(fastify: FastifyInstance): OutboundMetrics | null {
  if (!fastify.hasDecorator('metrics')) return null
  const metrics = fastify.getDecorator<MetricsApi>('metrics')
  const labelNames = ['service', 'method', 'status_code'] as const
  const total = metrics.counter({ name: 'http_client_requests_total', help: 'Outbound HTTP calls, by service, method and status code ("error" when no response)', labelNames })
  const duration = metrics.histogram({ name: 'http_client_request_duration_seconds', help: 'Duration of outbound HTTP calls in seconds, by service, method and status code', labelNames })
  // One pair of children per label set, found through nested maps keyed by the strings the call
  // already holds (no key built per call). prom-client still checks and hashes the labels inside.
  type Children = { total: { inc(): void }; duration: { observe(value: number): void } }
  const children = new Map<string, Map<string, Map<string, Children>>>()
  return {
    observe(service, method, statusCode, seconds) {
      let byMethod = children.get(service)
      if (byMethod === undefined) children.set(service, (byMethod = new Map()))
      let byStatus = byMethod.get(method)
      if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()))
      let child = byStatus.get(statusCode)
      if (child === undefined) {
        child = { total: total.labels(service, method, statusCode), duration: duration.labels(service, method, statusCode) }
        byStatus.set(statusCode, child)
      }
      child.total.inc()
      child.duration.observe(seconds)
    },
  }
}
