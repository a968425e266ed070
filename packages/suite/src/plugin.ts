import type { FastifyInstance, FastifyPluginAsync, FastifyPluginCallback } from 'fastify'
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
import { loadConfig, type OpskitConfig } from './config.js'
import { originOnlyCorsOptions } from './cors.js'
import { FST_OPSKIT_INVALID_OPTION } from './errors.js'
import { startOpenTelemetry } from './opentelemetry.js'
import { openSharedServices, type SharedServices } from './shared-services.js'

/** The options object a Fastify plugin takes. */
type OptionsOf<P> = P extends FastifyPluginAsync<infer O> ? O : P extends FastifyPluginCallback<infer O> ? O : never

export type CoreOptions = OptionsOf<typeof opskitCore>
export type LoggingOptions = OptionsOf<typeof opskitLogging>
export type MetricsOptions = OptionsOf<typeof opskitMetrics>
export type HealthOptions = OptionsOf<typeof opskitHealth>
export type SecurityLogOptions = OptionsOf<typeof opskitSecurityLog>
export type RateLimitOptions = OptionsOf<typeof opskitRateLimit>
export type AuditOptions = OptionsOf<typeof opskitAudit>
export type ErrorReportsOptions = OptionsOf<typeof opskitErrorReports>
export type AlertsOptions = OptionsOf<typeof opskitAlerts>
export type OutboundOptions = OptionsOf<typeof opskitOutbound>
export type ConsoleOptions = OptionsOf<typeof opskitConsole>

/**
 * Options of the `opskit` plugin. Each part key takes that plugin's own options, merged over what
 * the suite derives from `config`, or `false` to leave the part out.
 */
export interface OpskitOptions {
  /** Default `loadConfig()` (reads `process.env`, throws `FST_OPSKIT_INVALID_CONFIG`). */
  config?: OpskitConfig
  /** `@opskit/core` options (`resolveActor`, `requestIdHeader`). `false`: you registered core yourself. */
  core?: CoreOptions | false
  /** `@opskit/logging` options. */
  logging?: LoggingOptions | false
  /** `@opskit/metrics` options. Default `auth` from `METRICS_TOKEN`. */
  metrics?: MetricsOptions | false
  /** `@opskit/health` options. Default `version` from `APP_VERSION`; `db` / `redis` checks when `DATABASE_URL` / `REDIS_URL` are set (yours are added); `shutdownDelayMs: 5000` when `ENVIRONMENT=production`. */
  health?: HealthOptions | false
  /** `@opskit/security-log` options. Default `connection`/`redis` from `DATABASE_URL`/`REDIS_URL`. */
  securityLog?: SecurityLogOptions | false
  /** `@opskit/rate-limit` options. Default `enabled`/`max`/`timeWindow` from `RATE_LIMIT_*`, `redis` from `REDIS_URL`. */
  rateLimit?: RateLimitOptions | false
  /** `@opskit/audit` options. Default `connection` from `DATABASE_URL` (embedded PGlite when unset). */
  audit?: AuditOptions | false
  /** `@opskit/outbound` options (every outbound HTTP call logged and counted). On by default. */
  outbound?: OutboundOptions | false
  /** `@fastify/cors` options. Default: registered when `CORS_ORIGINS` is set, exposing the opskit headers. */
  cors?: FastifyCorsOptions | false
  /** `@opskit/error-reports` options. Default: on when `SENTRY_DSN` is set (`environment`, `release`, `tracesSampleRate` from the config). */
  errorReports?: ErrorReportsOptions | false
  /** `@opskit/alerts` options. Default: on when a sink is configured (`TELEGRAM_*`, `ALERT_WEBHOOK_URL`, `SMTP_URL` + `ALERT_EMAIL_*`); `service` from `APP_NAME`, `redis` from `REDIS_URL`. */
  alerts?: AlertsOptions | false
  /** `@opskit/console` options (the ops page at `/ops`). Default off; registered after every other part, and serving only with `authorize`. */
  console?: ConsoleOptions | false
}

/** `health.shutdownDelayMs` the suite sets when `ENVIRONMENT=production` (yours wins). */
export const PRODUCTION_SHUTDOWN_DELAY_MS = 5000

const PARTS = ['core', 'logging', 'metrics', 'health', 'securityLog', 'rateLimit', 'audit', 'outbound', 'cors', 'errorReports', 'alerts', 'console'] as const
const KNOWN_KEYS = new Set<string>(['config', ...PARTS])

/** Response headers a browser script may read: request id, rate-limit headers and retry-after. */
export const EXPOSED_HEADERS: readonly string[] = [
  'x-request-id',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'retry-after',
]

type PartOptions = Record<string, unknown> | false | undefined

function resolveOptions(opts: OpskitOptions): OpskitOptions & { config: OpskitConfig } {
  for (const key of Object.keys(opts)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new FST_OPSKIT_INVALID_OPTION(key, `unknown option; expected one of ${[...KNOWN_KEYS].join(', ')}`)
    }
  }
  for (const part of PARTS) {
    const value = opts[part] as unknown
    if (value !== undefined && value !== false && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw new FST_OPSKIT_INVALID_OPTION(part, 'expected that plugin\'s options object, or false to turn it off')
    }
  }
  if (opts.config !== undefined && (opts.config === null || typeof opts.config !== 'object')) {
    throw new FST_OPSKIT_INVALID_OPTION('config', 'expected the object loadConfig() returns')
  }
  return { ...opts, config: opts.config ?? loadConfig() }
}

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
