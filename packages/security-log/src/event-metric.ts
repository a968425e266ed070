import type { FastifyInstance } from 'fastify'
import type { Severity } from './actions.js'

interface CounterLike {
  inc(labels?: Record<string, string>, value?: number): void
}

interface MetricsLike {
  counter(config: { name: string; help: string; labelNames?: string[] }): CounterLike
}

/** Distinct `action` label values before further unknown actions are counted as `other`. */
const MAX_ACTION_LABELS = 200

/**
 * `security_events_total{action,severity}`, `security_events_not_stored_total` and
 * `security_write_failures_total` through `fastify.metrics` (from `@opskit/metrics`), when registered.
 */
export class EventMetric {
  #counter: CounterLike | null = null
  #notStored: CounterLike | null = null
  #writeFailures: CounterLike | null = null
  readonly #actions = new Set<string>()

  /** Creates the counter when `@opskit/metrics` is registered; call from `onReady`. */
  bind(fastify: FastifyInstance): void {
    if (!fastify.hasDecorator('metrics')) return
    const metrics = (fastify as unknown as { metrics: MetricsLike }).metrics
    this.#counter = metrics.counter({
      name: 'security_events_total',
      help: 'Security events recorded, by action and severity',
      labelNames: ['action', 'severity'],
    })
    this.#notStored = metrics.counter({
      name: 'security_events_not_stored_total',
      help: 'Security events accepted but never written (queue full, or still unwritten when close() gave up)',
    })
    this.#writeFailures = metrics.counter({
      name: 'security_write_failures_total',
      help: 'Failed security event INSERT attempts (each batch is retried)',
    })
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
    if (this.#counter === null) return
    let label = action
    if (!this.#actions.has(action)) {
      if (this.#actions.size < MAX_ACTION_LABELS) this.#actions.add(action)
      else label = 'other'
    }
    this.#counter.inc({ action: label, severity })
  }
}
