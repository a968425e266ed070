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
 * `cooldownMs` (per instance). Deliveries run in the background: a failing sink is logged and
 * retried with exponential backoff, never blocking the request that recorded the event.
 */
export class AlertDispatcher {
  readonly #opts: AlertDispatcherOptions
  readonly #minRank: number
  readonly #lastSent = new Map<string, number>()
  readonly #inFlight = new Set<Promise<void>>()
  readonly #sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>()
  #closing = false

  constructor(opts: AlertDispatcherOptions) {
    this.#opts = opts
    this.#minRank = severityRank(opts.minSeverity)
  }

  /** Sends an alert for `record` when its severity and the cooldown allow. Never throws. */
  notify(record: SecurityRecord): void {
    if (this.#closing || severityRank(record.severity) < this.#minRank) return
    const now = Date.now()
    const last = this.#lastSent.get(record.action)
    if (last !== undefined && now - last < this.#opts.cooldownMs) return
    this.#remember(record.action, now)
    const alert = buildAlert(record)
    for (const sink of this.#opts.sinks) {
      const delivery = this.#deliver(sink, alert).finally(() => this.#inFlight.delete(delivery))
      this.#inFlight.add(delivery)
    }
  }

  /** Resolves when every delivery started so far has succeeded or given up. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  /** Stops retrying (pending retries give up at once) and waits up to `timeoutMs` for sends in flight. */
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
      this.#opts.logger.warn({ pending: this.#inFlight.size }, '@opskit/security-log: closing with security alerts still being delivered')
    }
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

  async #deliver(sink: AlertSink, alert: Alert): Promise<void> {
    const { retries, retryBaseMs, logger } = this.#opts
    const attempts = retries + 1
    for (let attempt = 1; ; attempt++) {
      try {
        await sink.send(alert)
        if (attempt > 1) logger.info({ sink: sink.name, action: alert.action, attempt }, '@opskit/security-log: security alert delivered after retrying')
        return
      } catch (err) {
        const error = { message: (err as Error)?.message }
        if (attempt >= attempts || this.#closing) {
          logger.error(
            { sink: sink.name, action: alert.action, event_id: alert.event.id, attempt, err: error },
            `@opskit/security-log: security alert not delivered by ${sink.name}, giving up`,
          )
          return
        }
        logger.warn(
          { sink: sink.name, action: alert.action, attempt, err: error },
          `@opskit/security-log: security alert sink ${sink.name} failed, retrying`,
        )
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
