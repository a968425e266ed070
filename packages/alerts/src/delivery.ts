import type { FastifyBaseLogger } from 'fastify'
import { labelCap, OPSKIT_METRICS, type MetricsApi } from '@opskit/metrics'

export type DeliveryOutcome = 'sent' | 'failed' | 'pending'

/** Where a `Deliverer` sends: an alert sink (`@opskit/alerts`' or security-log's). */
export interface DeliverySink<M> {
  /** Appears in log lines and the `sink` label; never a secret. */
  readonly name: string
  /** Resolves when delivered; rejects to have it retried. */
  send(message: M): Promise<void>
}

export interface DelivererOptions<M> {
  /** Attempts after the first one before giving up. */
  retries: number
  /** Backoff before the first retry (doubling, with jitter). */
  retryBaseMs: number
  logger: FastifyBaseLogger
  /** What the log lines name as their source (`'@opskit/alerts'`). */
  source: string
  /** What is delivered, in the log lines (`'alert'`, `'security alert'`). */
  noun: string
  /** The log fields that identify a message (besides `sink` and `attempt`). */
  fields(message: M): Record<string, unknown>
  /** The `alert` and `kind` labels of `alerts_sent_total` for a message. */
  labels(message: M): { alert: string; kind: string }
  /** `'always'`: an INFO line for every delivery; `'after-retry'`: only for one that needed a retry. */
  logDelivered: 'always' | 'after-retry'
}

/** Distinct `alert` label values of `alerts_sent_total` before further ones count as `other`. */
const MAX_ALERT_LABELS = 200

interface Counter {
  inc(labels: Record<string, string>): void
}

/**
 * Sends messages to sinks in the background: a failing sink is logged, counted and retried with
 * exponential backoff (with jitter); the caller never waits. `close()` wakes every retry waiting
 * for its backoff (each gets one last attempt), then waits a bounded time for sends in flight.
 * The one retry loop of `@opskit/alerts` and `@opskit/security-log`.
 */
export class Deliverer<M> {
  readonly #opts: DelivererOptions<M>
  readonly #inFlight = new Set<Promise<void>>()
  readonly #sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>()
  #closing = false
  #sent: Counter | undefined
  #failures: Counter | undefined
  readonly #alertLabel = labelCap(MAX_ALERT_LABELS)

  constructor(opts: DelivererOptions<M>) {
    this.#opts = opts
  }

  /** Counts deliveries in `alerts_sent_total{alert,sink,kind}` and failed attempts in `alerts_delivery_failures_total{sink}`. */
  bindMetrics(metrics: MetricsApi): void {
    const { alertsSent, alertsDeliveryFailures } = OPSKIT_METRICS
    this.#sent = metrics.counter({ ...alertsSent, labelNames: [...alertsSent.labelNames] })
    this.#failures = metrics.counter({ ...alertsDeliveryFailures, labelNames: [...alertsDeliveryFailures.labelNames] })
  }

  /** True once `close()` started: nothing new should be handed over. */
  get closing(): boolean {
    return this.#closing
  }

  /**
   * Starts delivering `message` to every sink; with `outcomes`, `outcomes[sink.name]` is
   * `'pending'`, then `'sent'` or `'failed'` (after its retries) as each settles.
   */
  deliver(message: M, sinks: readonly DeliverySink<M>[], outcomes?: Record<string, DeliveryOutcome>): void {
    for (const sink of sinks) {
      if (outcomes !== undefined) outcomes[sink.name] = 'pending'
      const delivery = this.#deliver(sink, message).then((ok) => {
        if (outcomes !== undefined) outcomes[sink.name] = ok ? 'sent' : 'failed'
      })
      const tracked = delivery.finally(() => this.#inFlight.delete(tracked))
      this.#inFlight.add(tracked)
    }
  }

  /** Resolves when every delivery started so far has succeeded or given up. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  /** Stops retrying (a retry waiting for its backoff makes one last attempt now) and waits up to `timeoutMs` for sends in flight. */
  async close(timeoutMs: number): Promise<void> {
    this.#closing = true
    for (const sleeper of this.#sleeping) {
      clearTimeout(sleeper.timer)
      sleeper.wake()
    }
    this.#sleeping.clear()
    if (this.#inFlight.size === 0) return
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
      timer.unref()
    })
    await Promise.race([this.idle(), deadline])
    clearTimeout(timer)
    if (this.#inFlight.size > 0) {
      this.#opts.logger.warn({ pending: this.#inFlight.size }, `${this.#opts.source}: closing with ${this.#opts.noun}s still being delivered`)
    }
  }

  async #deliver(sink: DeliverySink<M>, message: M): Promise<boolean> {
    const { retries, retryBaseMs, logger, source, noun } = this.#opts
    const fields = { ...this.#opts.fields(message), sink: sink.name }
    for (let attempt = 1; ; attempt++) {
      try {
        await sink.send(message)
        if (this.#sent !== undefined) {
          const { alert, kind } = this.#opts.labels(message)
          this.#sent.inc({ alert: this.#alertLabel(alert), sink: sink.name, kind })
        }
        if (this.#opts.logDelivered === 'always') logger.info({ ...fields, attempt }, `${source}: ${noun} delivered`)
        else if (attempt > 1) logger.info({ ...fields, attempt }, `${source}: ${noun} delivered after retrying`)
        return true
      } catch (err) {
        this.#failures?.inc({ sink: sink.name })
        const error = { message: (err as Error)?.message, code: (err as { code?: string })?.code }
        if (attempt > retries || this.#closing) {
          logger.error({ ...fields, attempt, err: error }, `${source}: ${noun} not delivered by ${sink.name}, giving up`)
          return false
        }
        logger.warn({ ...fields, attempt, err: error }, `${source}: ${noun} sink ${sink.name} failed, retrying`)
        const backoff = retryBaseMs * 2 ** (attempt - 1)
        await this.#sleep(backoff / 2 + Math.random() * (backoff / 2))
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.#sleeping.delete(sleeper)
          resolve()
        }, ms),
        wake: resolve,
      }
      sleeper.timer.unref()
      this.#sleeping.add(sleeper)
    })
  }
}
