import type { FastifyInstance } from 'fastify'
import { labelCap } from '@opskit/core'
// Type only: @opskit/metrics is an optional sibling (a devDependency), never loaded by audit at run time.
import type { MetricsApi } from '@opskit/metrics'

/** The audit metrics, published only when `@opskit/metrics` is registered. */
export interface AuditMetrics {
  committed(counts: Map<string, number>): void
  writeFailed(): void
  notStored(count?: number): void
}

/** Distinct `action` label values; further actions are counted as `action="other"`. */
export const MAX_ACTION_LABELS = 200

/**
 * Creates `audit_events_total{action}`, `audit_write_failures_total`, `audit_queue_depth` (read
 * from the queue at scrape time) and `audit_events_not_stored_total` through `fastify.metrics`
 * (Fastify's `getDecorator`, typed by `@opskit/metrics`' `MetricsApi`), or returns null when
 * `@opskit/metrics` is not registered. Call from `onReady`.
 */
export function createAuditMetrics(fastify: FastifyInstance, depth: () => number): AuditMetrics | null {
  if (!fastify.hasDecorator('metrics')) return null
  const metrics = fastify.getDecorator<MetricsApi>('metrics')
  const events = metrics.counter({ name: 'audit_events_total', help: 'Audit events committed, by action', labelNames: ['action'] })
  const failures = metrics.counter({ name: 'audit_write_failures_total', help: 'Failed audit INSERT attempts (queued events are retried)' })
  const notStored = metrics.counter({
    name: 'audit_events_not_stored_total',
    help: 'Audit events that will never be stored: refused (queue full, recorded after close), failed on the caller\'s client, or unwritten when close() gave up',
  })
  metrics.gauge({
    name: 'audit_queue_depth',
    help: 'Audit events accepted but not yet committed',
    collect() {
      this.set(depth())
    },
  })
  // `action` is free text: a caller putting ids in it must not create a time series per event.
  const label = labelCap(MAX_ACTION_LABELS)
  return {
    committed(counts) {
      for (const [action, n] of counts) events.inc({ action: label(action) }, n)
    },
    writeFailed() {
      failures.inc()
    },
    notStored(count = 1) {
      if (count > 0) notStored.inc(count)
    },
  }
}
