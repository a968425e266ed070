import type { FastifyInstance } from 'fastify'
import type { MetricsApi } from '@opskit/metrics'

/** Distinct `service` label values; calls to further unnamed hosts count as `service="other"`. */
export const MAX_SERVICE_LABELS = 200

export interface OutboundMetrics {
  observe(service: string, method: string, statusCode: string, seconds: number): void
}

const TOTAL = { name: 'http_client_requests_total', help: 'Outbound HTTP calls, by service, method and status code ("error" when no response)' }
const DURATION = { name: 'http_client_request_duration_seconds', help: 'Duration of outbound HTTP calls in seconds, by service, method and status code' }
const LABEL_NAMES = ['service', 'method', 'status_code'] as const

type Series = { observe(seconds: number): void }

/** The series of one label set, made once: `labels()` is only asked for a label set not seen before. */
function seriesCache(labels: (service: string, method: string, statusCode: string) => Series): OutboundMetrics {
  // Found through nested maps keyed by the strings the call already holds: no key built per call.
  const children = new Map<string, Map<string, Map<string, Series>>>()
  return {
    observe(service, method, statusCode, seconds) {
      let byMethod = children.get(service)
      if (byMethod === undefined) children.set(service, (byMethod = new Map()))
      let byStatus = byMethod.get(method)
      if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()))
      let series = byStatus.get(statusCode)
      if (series === undefined) byStatus.set(statusCode, (series = labels(service, method, statusCode)))
      series.observe(seconds)
    },
  }
}

/**
 * `http_client_requests_total{service,method,status_code}` and
 * `http_client_request_duration_seconds{service,method,status_code}` through `fastify.metrics`
 * (from `@opskit/metrics`, when registered; call from `onReady`), else null. Recorded through
 * `fastify.metrics.red()`: plain accumulators, a count, a sum and a bucket per call.
 */
export function createOutboundMetrics(fastify: FastifyInstance): OutboundMetrics | null {
  if (!fastify.hasDecorator('metrics')) return null
  const metrics = fastify.getDecorator<MetricsApi>('metrics')
  const red = metrics.red({ total: TOTAL, duration: DURATION, labelNames: LABEL_NAMES })
  return seriesCache((service, method, statusCode) => red.labels(service, method, statusCode))
}
