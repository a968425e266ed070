import { labelCap, OPSKIT_METRICS, type MetricsApi } from '@opskit/metrics'
import type { Severity } from './actions.js'

type Counter = ReturnType<MetricsApi['counter']>

/** Distinct `action` label values before further unknown actions are counted as `other`. */
const MAX_ACTION_LABELS = 200

const { securityEvents, securityEventsNotStored, securityWriteFailures } = OPSKIT_METRICS

/**
 * `security_events_total{action,severity}`, `security_events_not_stored_total` and
 * `security_write_failures_total` through `fastify.metrics` (from `@opskit/metrics`), when registered.
 */
export class EventMetric {
  #counter: Counter | null = null
  #notStored: Counter | null = null
  #writeFailures: Counter | null = null
  readonly #actionLabel = labelCap(MAX_ACTION_LABELS)

  /** Creates the counters on `fastify.metrics` (`@opskit/metrics`). */
  bind(metrics: MetricsApi): void {
    this.#counter = metrics.counter({ ...securityEvents, labelNames: [...securityEvents.labelNames] })
    this.#notStored = metrics.counter({ ...securityEventsNotStored, labelNames: [] })
    this.#writeFailures = metrics.counter({ ...securityWriteFailures, labelNames: [] })
  }

  /** One accepted event that will never be stored. */
  notStored(): void {
    this.#notStored?.inc()
  }

  /** One failed INSERT attempt (retried). */
  writeFailure(): void {
    this.#writeFailures?.inc()
  }

  count(action: string, severity: Severity): void {
    this.#counter?.inc({ action: this.#actionLabel(action), severity })
  }
}
