import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import fastifyCors, { type FastifyCorsOptions } from '@fastify/cors'
import { opskitCore } from '@opskit/core'
import { opskitLogging } from '@opskit/logging'
import { opskitMetrics } from '@opskit/metrics'
import { opskitHealth, postgresCheck, redisCheck } from '@opskit/health'
import { opskitSecurityLog } from '@opskit/security-log'
import { opskitRateLimit } from '@opskit/rate-limit'
import { opskitAudit } from '@opskit/audit'
import { emailSink, opskitAlerts, telegramSink, webhookSink } from '@opskit/alerts'
import type { AlertSink } from '@opskit/alerts'
import { opskitErrorReports } from '@opskit/error-reports'
import { opskitOutbound } from '@opskit/outbound'
import { opskitConsole } from '@opskit/console'
import type { OpskitConfig } from './config.js'
import { originOnlyCorsOptions } from './cors.js'
import { FST_OPSKIT_INVALID_OPTION } from './errors.js'
import { startOpenTelemetry } from './opentelemetry.js'
import { PARTS, resolveOptions } from './options.js'
import type { AlertsOptions, AuditOptions, ConsoleOptions, CoreOptions, ErrorReportsOptions, HealthOptions, LoggingOptions, MetricsOptions, OpskitOptions, OutboundOptions, RateLimitOptions, SecurityLogOptions } from './options.js'
import { openSharedServices, type SharedServices } from './shared-services.js'

/** `health.shutdownDelayMs` the suite sets when `ENVIRONMENT=production` (yours wins). */
export const PRODUCTION_SHUTDOWN_DELAY_MS = 5000

/** Response headers a browser script may read: request id, rate-limit headers and retry-after. */
export const EXPOSED_HEADERS: readonly string[] = [
  'x-request-id',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'retry-after',
]

type PartOptions = Record<string, unknown> | false | undefined

function corsOptions(config: OpskitConfig, user: PartOptions): FastifyCorsOptions | false {
  if (user === false) return false
  if (user === undefined && config.corsOrigins.length === 0) return false
  const origin = config.corsOrigins.includes('*') ? '*' : config.corsOrigins
  return {
    origin,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: [...EXPOSED_HEADERS],
    ...(user as FastifyCorsOptions | undefined),
  }
}

const plugin: FastifyPluginAsync<OpskitOptions> = async (fastify, opts) => {
  const { config, ...parts } = resolveOptions(opts)
  const on = (part: (typeof PARTS)[number]): boolean => parts[part] !== false
  const user = (part: (typeof PARTS)[number]): Record<string, unknown> => (parts[part] || {}) as Record<string, unknown>

  // A part given its own `connection` / `redis` keeps it; the shared ones serve the others.
  const storesRows = (part: 'audit' | 'securityLog'): boolean => on(part) && user(part).connection === undefined
  const services: SharedServices = await openSharedServices(config, {
    database: storesRows('audit') || storesRows('securityLog') || on('health'),
    embedded: storesRows('audit') || storesRows('securityLog'),
    redis: (on('rateLimit') && user('rateLimit').redis === undefined) || (on('securityLog') && user('securityLog').redis === undefined) || on('health'),
    logger: fastify.log,
  })
  // Registered before the parts, so (hooks running in reverse order of registration) it runs
  // after they have flushed their queues onto the shared pool.
  fastify.addHook('onClose', async () => {
    await services.close()
  })

  // ENABLE_OPENTELEMETRY: @fastify/otel first, so its request span is active when core builds the context.
  const otel = config.openTelemetry
  if (otel !== undefined) {
    const tracing = await startOpenTelemetry({ ...config, openTelemetry: otel })
    fastify.addHook('onClose', async () => {
      await tracing.shutdown()
    })
    await fastify.register(tracing.plugin)
  }

  if (on('core')) {
    await fastify.register(opskitCore, user('core') as CoreOptions)
  } else if (!fastify.hasRequestDecorator('setActor')) {
    throw new FST_OPSKIT_INVALID_OPTION('core', 'false requires @opskit/core to be registered before opskit')
  }

  if (on('logging')) await fastify.register(opskitLogging, user('logging') as LoggingOptions)

  // Error reports: on when SENTRY_DSN is set, or when given options.
  if (parts.errorReports !== false && (parts.errorReports !== undefined || config.sentry !== undefined)) {
    const defaults: Record<string, unknown> = { release: config.appVersion, environment: config.sentry?.environment ?? config.environment }
    if (config.sentry !== undefined) Object.assign(defaults, { dsn: config.sentry.dsn, tracesSampleRate: config.sentry.tracesSampleRate })
    await fastify.register(opskitErrorReports, { ...defaults, ...user('errorReports') } as ErrorReportsOptions)
  }

  if (on('metrics')) {
    const defaults: Record<string, unknown> = {}
    if (config.metricsToken !== undefined) defaults.auth = { bearerToken: config.metricsToken }
    await fastify.register(opskitMetrics, { ...defaults, ...user('metrics') } as MetricsOptions)
  }

  if (on('outbound')) await fastify.register(opskitOutbound, user('outbound') as OutboundOptions)

  // CORS before anything that may answer early (rate-limit's 429), so those answers carry the headers.
  const cors = corsOptions(config, parts.cors as PartOptions)
  if (cors !== false) await fastify.register(fastifyCors, originOnlyCorsOptions(cors))

  if (on('health')) {
    const userHealth = user('health')
    const checks: Record<string, unknown> = {}
    if (services.pool !== undefined) checks.db = postgresCheck(services.pool)
    if (services.redis !== undefined) checks.redis = redisCheck(services.redis)
    Object.assign(checks, userHealth.checks as Record<string, unknown> | undefined)
    // In production a load balancer needs time to see readiness turn 503 before the listener closes.
    const drain = config.environment === 'production' ? { shutdownDelayMs: PRODUCTION_SHUTDOWN_DELAY_MS } : {}
    await fastify.register(opskitHealth, { version: config.appVersion, ...drain, ...userHealth, checks } as HealthOptions)
  }

  // Security-log before rate-limit: rate-limit records rate_limit_hit when `securityLog` is decorated.
  if (on('securityLog')) {
    const defaults: Record<string, unknown> = {}
    const connection = services.pool ?? services.pglite
    if (connection !== undefined) defaults.connection = connection
    if (services.redis !== undefined) defaults.redis = services.redis
    await fastify.register(opskitSecurityLog, { ...defaults, ...user('securityLog') } as SecurityLogOptions)
  }

  if (on('rateLimit')) {
    const defaults: Record<string, unknown> = {
      enabled: config.rateLimit.enabled,
      max: config.rateLimit.requests,
      timeWindow: config.rateLimit.periodSeconds * 1000,
    }
    if (services.redis !== undefined) defaults.redis = services.redis
    await fastify.register(opskitRateLimit, { ...defaults, ...user('rateLimit') } as RateLimitOptions)
  }

  if (on('audit')) {
    const defaults: Record<string, unknown> = {}
    const connection = services.pool ?? services.pglite
    if (connection !== undefined) defaults.connection = connection
    await fastify.register(opskitAudit, { ...defaults, ...user('audit') } as AuditOptions)
  }

  // Alerts last: they read health and metrics. On when a sink is configured, or when given options.
  const alertSinks = configuredSinks(config)
  if (parts.alerts !== false && (parts.alerts !== undefined || alertSinks.length > 0)) {
    const alertOptions: AlertsOptions = {
      sinks: alertSinks,
      service: config.appName,
      ...(services.redis !== undefined ? { redis: services.redis } : {}),
      ...(user('alerts') as Partial<AlertsOptions>),
    }
    await fastify.register(opskitAlerts, alertOptions)
  }
  // Last, so it sees every part. Off unless asked for; asked for without `authorize`, it registers
  // nothing and says so at WARN.
  const userConsole = parts.console
  if (userConsole !== undefined && userConsole !== false) {
    await fastify.register(opskitConsole, { title: config.appName, ...userConsole } as ConsoleOptions)
  }

  decorateSuite(fastify, config, services)
}

/** The alert sinks the environment configures. */
function configuredSinks(config: OpskitConfig): AlertSink[] {
  const sinks: AlertSink[] = []
  const env = config.alertSinks
  if (env?.telegram !== undefined) sinks.push(telegramSink(env.telegram))
  if (env?.webhookUrl !== undefined) sinks.push(webhookSink(env.webhookUrl))
  if (env?.email !== undefined) sinks.push(emailSink(env.email))
  return sinks
}

/** `fastify.opskit`: the configuration in use and the shared connections, for the application's own queries. */
export interface OpskitDecorator {
  readonly config: OpskitConfig
  /** The one `pg.Pool` (when `DATABASE_URL` is set). Closed by `fastify.close()`. */
  readonly pool: SharedServices['pool']
  /** The one in-memory PGlite audit and security-log share when `DATABASE_URL` is not set. */
  readonly pglite: SharedServices['pglite']
  /** The one ioredis client (when `REDIS_URL` is set). Closed by `fastify.close()`. */
  readonly redis: SharedServices['redis']
}

declare module 'fastify' {
  interface FastifyInstance {
    opskit: OpskitDecorator
  }
}

function decorateSuite(fastify: FastifyInstance, config: OpskitConfig, services: SharedServices): void {
  fastify.decorate('opskit', { config, pool: services.pool, pglite: services.pglite, redis: services.redis } satisfies OpskitDecorator)
}

/**
 * Every opskit plugin from one options object: core, logging, metrics, outbound, health, security-log,
 * rate-limit, audit, `@fastify/cors`, error reports and alerts, configured from `loadConfig()`, with one PostgreSQL pool
 * and one Redis client shared by the parts that need them.
 */
export const opskit = fp(plugin, { fastify: '5.x', name: '@opskit/suite' })
export default opskit
