import { Deliverer } from '@opskit/alerts'
import type { MetricsApi } from '@opskit/metrics'
import type { FastifyBaseLogger } from 'fastify'
import { severityRank } from './actions.js'
import type { Severity } from './actions.js'
import { buildAlert } from './alert.js'
import type { Alert, AlertSink } from './alert.js'
import type { SecurityRecord } from './record.js'

export interface AlertDispatcherOptions {
  sinks: AlertSink[]
  minSeverity: Severity
  cooldownMs: number
  retries: number
  retryBaseMs: number
  logger: FastifyBaseLogger
}

const MAX_COOLDOWN_KEYS = 1000

/**
 * Routes events at or above `minSeverity` to every sink, at most once per action inside
 * `cooldownMs` (per instance). Deliveries go through `@opskit/alerts`' `Deliverer`: in the
 * background, a failing sink logged, counted and retried with exponential backoff, never blocking
 * the request that recorded the event.
 */
export class AlertDispatcher {
  readonly #opts: AlertDispatcherOptions
  readonly #minRank: number
  readonly #lastSent = new Map<string, number>()
  readonly #deliverer: Deliverer<Alert>

  constructor(opts: AlertDispatcherOptions) {
    this.#opts = opts
    this.#minRank = severityRank(opts.minSeverity)
    this.#deliverer = new Deliverer<Alert>({
      retries: opts.retries,
      retryBaseMs: opts.retryBaseMs,
      logger: opts.logger,
      source: '@opskit/security-log',
      noun: 'security alert',
      fields: (alert) => ({ action: alert.action, event_id: alert.event.id }),
      labels: (alert) => ({ alert: alert.action, kind: 'firing' }),
      logDelivered: 'after-retry',
    })
  }

  /** Counts deliveries in `alerts_sent_total` and failed attempts in `alerts_delivery_failures_total`. */
  bindMetrics(metrics: MetricsApi): void {
    this.#deliverer.bindMetrics(metrics)
  }

  /** Sends an alert for `record` when its severity and the cooldown allow. Never throws. */
  notify(record: SecurityRecord): void {
    if (this.#deliverer.closing || severityRank(record.severity) < this.#minRank) return
    const now = Date.now()
    const last = this.#lastSent.get(record.action)
    if (last !== undefined && now - last < this.#opts.cooldownMs) return
    this.#remember(record.action, now)
    this.#deliverer.deliver(buildAlert(record), this.#opts.sinks)
  }

  /** Stops retrying (pending retries make one last attempt) and waits up to `timeoutMs` for sends in flight. */
  close(timeoutMs: number): Promise<void> {
    return this.#deliverer.close(timeoutMs)
  }

  #remember(action: string, now: number): void {
    this.#lastSent.delete(action)
    this.#lastSent.set(action, now)
    // Least recently alerted first: those are the ones whose cooldown is over.
    for (const key of this.#lastSent.keys()) {
      if (this.#lastSent.size <= MAX_COOLDOWN_KEYS) break
      this.#lastSent.delete(key)
    }
  }
}
