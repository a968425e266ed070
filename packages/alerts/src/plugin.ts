import { AsyncResource } from 'node:async_hooks'
import type { HealthApi } from '@opskit/health'
import { OPSKIT_METRICS, type MetricsApi } from '@opskit/metrics'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import type { Condition } from './conditions.js'
import { errorRateCondition, healthConditions, slowCondition } from './conditions.js'
import { Deliverer } from './delivery.js'
import type { AlertMessage } from './message.js'
import { AlertEngine } from './engine.js'
import type { AlertHistoryEntry, FiringAlert } from './engine.js'
import { FST_OPSKIT_ALERTS_FORBIDDEN, FST_OPSKIT_ALERTS_UNAUTHORIZED } from './errors.js'
import { HttpWindowReader } from './http-window.js'
import { resolveOptions } from './options.js'
import type { OpskitAlertsOptions, ResolvedOptions } from './options.js'
import { SharedState } from './shared-state.js'
import { localDay } from './summary-clock.js'

/** `fastify.alerts` */
export interface AlertsApi {
  /** Alerts firing now on this instance. */
  firing(): FiringAlert[]
  /** Transitions of the past 24 h (fired, resolved, summaries), oldest first, with each sink's delivery. */
  history(): AlertHistoryEntry[]
  /** Runs every rule now (what the timer does every `everyMs`); resolves when transitions are recorded (deliveries continue in the background). */
  evaluate(): Promise<FiringAlert[]>
}

declare module 'fastify' {
  interface FastifyInstance {
    alerts: AlertsApi
  }
}

const DETAILS = { type: 'object', additionalProperties: true } as const
const SEVERITY = { type: 'string', enum: ['critical', 'error', 'warning', 'info'] } as const
const ROUTE_RESPONSE = {
  type: 'object',
  required: ['firing', 'history'],
  properties: {
    firing: {
      type: 'array',
      items: {
        type: 'object',
        properties: { alert: { type: 'string' }, severity: SEVERITY, message: { type: 'string' }, details: DETAILS, since: { type: 'string' } },
      },
    },
    history: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          alert: { type: 'string' },
          severity: SEVERITY,
          kind: { type: 'string', enum: ['firing', 'resolved', 'summary'] },
          service: { type: 'string' },
          instance: { type: 'string' },
          message: { type: 'string' },
          at: { type: 'string' },
          details: DETAILS,
          deliveries: { type: 'object', additionalProperties: { type: 'string', enum: ['sent', 'failed', 'pending'] } },
          suppressed: { type: 'string' },
        },
      },
    },
  },
} as const

const alertsPlugin: FastifyPluginAsync<OpskitAlertsOptions> = async (fastify, opts) => {
  const options = resolveOptions(opts)
  const logger = fastify.log.child({ logger: 'alerts' })
  const ownsRedis = typeof options.redis === 'string'
  const redis = typeof options.redis === 'string' ? new Redis(options.redis, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true }) : options.redis
  const deliverer = new Deliverer<AlertMessage>({
    retries: options.retries,
    retryBaseMs: options.retryBaseMs,
    logger,
    source: '@opskit/alerts',
    noun: 'alert',
    fields: (message) => ({ alert: message.alert, kind: message.kind, severity: message.severity }),
    labels: (message) => message,
    logDelivered: 'always',
  })
  const engine = new AlertEngine(options, deliverer, new SharedState(redis, options.keyPrefix, logger), logger)
  const evaluator = new Evaluator(fastify, options, engine, logger)

  // Evaluations run in the async context of registration, never a request's: called from a handler,
  // the lines about alerts and deliveries still carry no request_id / user_id.
  const outsideRequests = new AsyncResource('@opskit/alerts')
  fastify.decorate('alerts', {
    firing: () => engine.firing(),
    history: () => engine.history(),
    evaluate: () => outsideRequests.runInAsyncScope(() => evaluator.run()),
  } satisfies AlertsApi)

  if (options.routes !== undefined) {
    const { prefix, authorize } = options.routes
    fastify.get(prefix, { schema: { response: { 200: ROUTE_RESPONSE } } }, async (request) => {
      if ((request as { actor?: unknown }).actor == null) throw new FST_OPSKIT_ALERTS_UNAUTHORIZED()
      if ((await authorize(request)) !== true) throw new FST_OPSKIT_ALERTS_FORBIDDEN()
      return { firing: engine.firing(), history: engine.history() }
    })
  }

  let timer: NodeJS.Timeout | undefined
  fastify.addHook('onReady', async () => {
    evaluator.attach()
    if (fastify.hasDecorator('metrics')) {
      const metrics = fastify.getDecorator<MetricsApi>('metrics')
      engine.firingGauge = metrics.gauge({ ...OPSKIT_METRICS.alertsFiring, labelNames: [...OPSKIT_METRICS.alertsFiring.labelNames] })
      deliverer.bindMetrics(metrics)
    }
    if (ownsRedis) redis?.connect().catch(() => undefined)
    timer = setInterval(() => {
      evaluator.run().catch((err: unknown) => logger.error({ err: { message: (err as Error)?.message } }, '@opskit/alerts: evaluation failed'))
    }, options.everyMs)
    timer.unref()
  })

  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    timer = undefined
    await deliverer.close(options.closeTimeoutMs)
    if (ownsRedis) redis?.disconnect()
  })
}

/** Reads health and metrics once per evaluation and hands what it saw to the engine. */
class Evaluator {
  #health: HealthApi | undefined
  #http: HttpWindowReader | undefined
  #failedRuns = 0
  readonly #customLastRun = new Map<string, number>()
  #summaryDay: string | undefined
  #running: Promise<FiringAlert[]> | undefined

  constructor(
    private readonly fastify: FastifyInstance,
    private readonly options: ResolvedOptions,
    private readonly engine: AlertEngine,
    private readonly logger: FastifyInstance['log'],
  ) {}

  /** Finds the sibling plugins (registered before or after this one, in the same scope). */
  attach(): void {
    if (this.fastify.hasDecorator('health')) this.#health = this.fastify.getDecorator<HealthApi>('health')
    if (this.fastify.hasDecorator('metrics')) {
      const metrics = this.fastify.getDecorator<MetricsApi>('metrics')
      this.#http = new HttpWindowReader(metrics.registry, metrics.prefix)
    }
    const summary = this.options.summary
    if (summary !== undefined) {
      // Started after today's hour: the first digest goes out tomorrow.
      const local = localDay(Date.now(), summary.timeZone)
      this.#summaryDay = local.hour >= summary.hour ? local.day : ''
    }
  }

  run(): Promise<FiringAlert[]> {
    // Overlapping evaluations (a slow check) share one.
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async #run(): Promise<FiringAlert[]> {
    const now = Date.now()
    const { rules } = this.options
    const seen: Condition[] = []
    const ran = new Set<string>()
    if (this.#health !== undefined && (rules.service_down !== false || rules.check_down !== false || rules.disk_space !== false)) {
      try {
        const report = await this.#health.run()
        this.#failedRuns = report.status === 'error' ? this.#failedRuns + 1 : 0
        seen.push(...healthConditions(rules, report, this.#failedRuns))
        for (const rule of ['service_down', 'check_down', 'disk_space']) ran.add(rule)
      } catch (err) {
        this.logger.warn({ err: { message: (err as Error)?.message } }, '@opskit/alerts: health run failed; health rules keep their state')
      }
    }
    if (this.#http !== undefined && (rules.high_error_rate !== false || rules.slow_responses !== false)) {
      const windows = [rules.high_error_rate, rules.slow_responses].map((r) => (r === false ? 0 : r.windowMs))
      await this.#http.sample(now, Math.max(...windows))
      if (rules.high_error_rate !== false) {
        seen.push(...errorRateCondition(rules.high_error_rate, this.#http.window(rules.high_error_rate.windowMs)))
        ran.add('high_error_rate')
      }
      if (rules.slow_responses !== false) {
        seen.push(...slowCondition(rules.slow_responses, this.#http.window(rules.slow_responses.windowMs)))
        ran.add('slow_responses')
      }
    }
    for (const rule of this.options.custom) {
      const last = this.#customLastRun.get(rule.name)
      if (last !== undefined && now - last < rule.everyMs) continue
      this.#customLastRun.set(rule.name, now)
      try {
        if ((await rule.evaluate()) === true) {
          seen.push({ key: rule.name, alert: rule.name, severity: rule.severity, cooldownMs: rule.cooldownMs, message: rule.message, details: {} })
        }
        ran.add(rule.name)
      } catch (err) {
        this.logger.warn({ alert: rule.name, err: { message: (err as Error)?.message } }, `@opskit/alerts: custom rule ${rule.name} threw; it keeps its state`)
      }
    }
    await this.engine.apply(seen, (alert) => ran.has(alert), now)
    const summary = this.options.summary
    if (summary !== undefined && this.#summaryDay !== undefined) {
      const local = localDay(now, summary.timeZone)
      if (local.hour >= summary.hour && this.#summaryDay !== local.day) {
        this.#summaryDay = local.day
        await this.engine.summary(local.day, summary.sinks, now)
      }
    }
    return this.engine.firing()
  }
}

export const opskitAlerts = fp(alertsPlugin, {
  fastify: '5.x',
  name: '@opskit/alerts',
})
export default opskitAlerts
