import type { FastifyBaseLogger } from 'fastify'
import type { MetricsApi } from '@opskit/metrics'
import type { AlertMessage, AlertSink } from './message.js'

export type DeliveryOutcome = 'sent' | 'failed' | 'pending'

export interface DeliveryMetrics {
  sent: ReturnType<MetricsApi['counter']>
  failures: ReturnType<MetricsApi['counter']>
}

export interface DelivererOptions {
  retries: number
  retryBaseMs: number
  logger: FastifyBaseLogger
}

/**
 * Sends messages to sinks in the background: a failing sink is logged, counted and retried with
 * exponential backoff (with jitter); the caller never waits. `close()` stops retrying and waits a
 * bounded time for sends in flight.
 */
export class Deliverer {
  readonly #opts: DelivererOptions
  readonly #inFlight = new Set<Promise<void>>()
  readonly #sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>()
  #closing = false
  metrics: DeliveryMetrics | undefined

  constructor(opts: DelivererOptions) {
    this.#opts = opts
  }

  /** Starts delivering `message` to every sink; `outcomes[sink.name]` is updated as each settles. */
  deliver(message: AlertMessage, sinks: readonly AlertSink[], outcomes: Record<string, DeliveryOutcome>): void {
    for (const sink of sinks) {
      outcomes[sink.name] = 'pending'
      const delivery = this.#deliver(sink, message).then((ok) => {
        outcomes[sink.name] = ok ? 'sent' : 'failed'
      })
      const tracked = delivery.finally(() => this.#inFlight.delete(tracked))
      this.#inFlight.add(tracked)
    }
  }

  /** Resolves when every delivery started so far has succeeded or given up. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

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
    if (this.#inFlight.size > 0) this.#opts.logger.warn({ pending: this.#inFlight.size }, '@opskit/alerts: closing with alerts still being delivered')
  }

  async #deliver(sink: AlertSink, message: AlertMessage): Promise<boolean> {
    const { retries, retryBaseMs, logger } = this.#opts
    const fields = { alert: message.alert, kind: message.kind, severity: message.severity, sink: sink.name }
    for (let attempt = 1; ; attempt++) {
      try {
        await sink.send(message)
        this.metrics?.sent.inc({ alert: message.alert, sink: sink.name, kind: message.kind })
        logger.info({ ...fields, attempt }, '@opskit/alerts: alert delivered')
        return true
      } catch (err) {
        this.metrics?.failures.inc({ sink: sink.name })
        const error = { message: (err as Error)?.message, code: (err as { code?: string })?.code }
        if (attempt > retries || this.#closing) {
          logger.error({ ...fields, attempt, err: error }, `@opskit/alerts: alert not delivered by ${sink.name}, giving up`)
          return false
        }
        logger.warn({ ...fields, attempt, err: error }, `@opskit/alerts: alert sink ${sink.name} failed, retrying`)
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
