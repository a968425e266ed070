import { hostname } from 'node:os'
import { redact } from '@opskit/core'
import type { FastifyBaseLogger } from 'fastify'
import type { MetricsApi } from '@opskit/metrics'
import type { Condition } from './conditions.js'
import type { Deliverer, DeliveryOutcome } from './delivery.js'
import type { AlertKind, AlertMessage, AlertSeverity, AlertSink } from './message.js'
import type { ResolvedOptions } from './options.js'
import type { SharedState } from './shared-state.js'

/** An alert that is firing now (on this instance). */
export interface FiringAlert {
  alert: string
  severity: AlertSeverity
  message: string
  details: Record<string, unknown>
  /** ISO time it started firing. */
  since: string
}

/** One transition: it fired (or was re-sent after its cooldown), resolved, or the daily summary. */
export interface AlertHistoryEntry extends AlertMessage {
  /** Each sink's delivery: `sent`, `failed` (after retries) or `pending`. Empty when not sent from here. */
  deliveries: Record<string, DeliveryOutcome>
  /** Set when another instance of the service sent it (Redis), so nothing was sent from here. */
  suppressed?: 'other_instance'
}

interface Active {
  condition: Condition
  since: number
  lastSentAt: number | undefined
}

const DAY_MS = 86_400_000

export class AlertEngine {
  readonly instance = `${hostname()}:${process.pid}`
  readonly #active = new Map<string, Active>()
  readonly #history: AlertHistoryEntry[] = []
  readonly #gaugeSeries = new Set<string>()
  firingGauge: ReturnType<MetricsApi['gauge']> | undefined

  constructor(
    private readonly options: ResolvedOptions,
    private readonly deliverer: Deliverer<AlertMessage>,
    private readonly shared: SharedState,
    private readonly logger: FastifyBaseLogger,
  ) {}

  firing(): FiringAlert[] {
    return [...this.#active.values()].map(({ condition, since }) => ({
      alert: condition.alert,
      severity: condition.severity,
      message: condition.message,
      details: condition.details,
      since: new Date(since).toISOString(),
    }))
  }

  history(): AlertHistoryEntry[] {
    this.#prune(Date.now())
    return this.#history.map((entry) => ({ ...entry, deliveries: { ...entry.deliveries } }))
  }

  /**
   * Applies one evaluation: `seen` are the problems found by the rules in `ran` (rules that did not
   * run this time keep their state). New problems fire, ones that disappeared resolve.
   */
  async apply(seen: Condition[], ran: (alert: string) => boolean, now: number): Promise<void> {
    const current = new Map(seen.map((c) => [c.key, c]))
    const transitions: Promise<void>[] = []
    for (const [key, condition] of current) {
      const active = this.#active.get(key)
      if (active === undefined) {
        const started: Active = { condition, since: now, lastSentAt: undefined }
        this.#active.set(key, started)
        transitions.push(this.#fire(key, started, now))
      } else {
        const escalated = active.condition.severity !== condition.severity
        active.condition = condition
        if (escalated || (active.lastSentAt !== undefined && now - active.lastSentAt >= condition.cooldownMs)) {
          transitions.push(this.#fire(key, active, now))
        }
      }
    }
    for (const [key, active] of this.#active) {
      if (current.has(key) || !ran(active.condition.alert)) continue
      this.#active.delete(key)
      transitions.push(this.#resolve(key, active, now))
    }
    await Promise.all(transitions)
    this.#updateGauge()
  }

  /** Sends the digest of the past 24 h to `sinks`, once per day between instances with Redis. */
  async summary(day: string, sinks: readonly AlertSink[], now: number): Promise<void> {
    const since = now - DAY_MS
    const entries = this.#history.filter((e) => e.kind !== 'summary' && Date.parse(e.at) >= since)
    const fired = entries.filter((e) => e.kind === 'firing')
    const lines = entries.map((e) => `- [${e.kind === 'resolved' ? 'resolved' : e.severity}] ${e.alert}${typeof e.details.check === 'string' ? ` ${e.details.check}` : ''} at ${e.at}: ${e.message}`)
    const firingNow = this.firing()
    const message: AlertMessage = {
      alert: 'summary',
      severity: 'info',
      kind: 'summary',
      service: this.options.service,
      instance: this.instance,
      message: `${fired.length} alert${fired.length === 1 ? '' : 's'} in the past 24 h, ${firingNow.length} firing now${lines.length > 0 ? `\n${lines.join('\n')}` : ''}`,
      at: new Date(now).toISOString(),
      details: redact({ day, alerts: entries.map(({ deliveries: _d, suppressed: _s, ...m }) => m), firing: firingNow }) as Record<string, unknown>,
    }
    const claimed = await this.shared.claim(`${this.options.service}:summary:${day}`, 'summary', DAY_MS + 3_600_000)
    this.#record(message, claimed ? sinks : [], claimed ? undefined : 'other_instance')
  }

  async #fire(key: string, active: Active, now: number): Promise<void> {
    const claimed = await this.shared.claim(`${this.options.service}:${key}`, 'firing', active.condition.cooldownMs)
    active.lastSentAt = now
    this.#record(this.#message(active.condition, 'firing', now), claimed ? this.options.sinks : [], claimed ? undefined : 'other_instance')
  }

  async #resolve(key: string, active: Active, now: number): Promise<void> {
    const claimed = await this.shared.claim(`${this.options.service}:${key}`, 'resolved', active.condition.cooldownMs)
    const message = this.#message(active.condition, 'resolved', now)
    message.message = `${active.condition.alert}${typeof active.condition.details.check === 'string' ? ` ${active.condition.details.check}` : ''} is back to normal after ${Math.max(1, Math.round((now - active.since) / 1000))} s`
    this.#record(message, claimed ? this.options.sinks : [], claimed ? undefined : 'other_instance')
  }

  #message(condition: Condition, kind: AlertKind, now: number): AlertMessage {
    return {
      alert: condition.alert,
      severity: condition.severity,
      kind,
      service: this.options.service,
      instance: this.instance,
      message: condition.message,
      at: new Date(now).toISOString(),
      details: redact(condition.details) as Record<string, unknown>,
    }
  }

  #record(message: AlertMessage, sinks: readonly AlertSink[], suppressed: AlertHistoryEntry['suppressed']): void {
    const entry: AlertHistoryEntry = { ...message, deliveries: {}, ...(suppressed ? { suppressed } : {}) }
    this.#history.push(entry)
    this.#prune(Date.parse(message.at))
    const fields = { alert: message.alert, kind: message.kind, severity: message.severity, details: message.details, ...(suppressed ? { suppressed } : {}) }
    const line = `@opskit/alerts: ${message.kind === 'summary' ? 'daily summary' : `[${message.kind === 'resolved' ? 'resolved' : message.severity}] ${message.alert}: ${message.message}`}`
    if (message.kind === 'firing' && (message.severity === 'critical' || message.severity === 'error')) this.logger.error(fields, line)
    else if (message.kind === 'firing') this.logger.warn(fields, line)
    else this.logger.info(fields, line)
    const targets = message.kind === 'summary' ? sinks : sinks.filter((s) => s.severities === undefined || s.severities.includes(message.severity))
    if (targets.length > 0) this.deliverer.deliver(message, targets, entry.deliveries)
  }

  #prune(now: number): void {
    const limit = this.options.historyLimit
    let drop = Math.max(0, this.#history.length - limit)
    while (drop < this.#history.length && Date.parse(this.#history[drop]!.at) < now - DAY_MS) drop++
    if (drop > 0) this.#history.splice(0, drop)
  }

  #updateGauge(): void {
    if (this.firingGauge === undefined) return
    const counts = new Map<string, number>()
    for (const { condition } of this.#active.values()) counts.set(condition.alert, (counts.get(condition.alert) ?? 0) + 1)
    for (const alert of this.#gaugeSeries) if (!counts.has(alert)) this.firingGauge.set({ alert }, 0)
    for (const [alert, n] of counts) {
      this.#gaugeSeries.add(alert)
      this.firingGauge.set({ alert }, n)
    }
  }
}
