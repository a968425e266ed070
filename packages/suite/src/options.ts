import type { FastifyPluginAsync, FastifyPluginCallback } from 'fastify'
import type { FastifyCorsOptions } from '@fastify/cors'
import { isPlainObject, refuseUnknownKeys } from '@opskit/core'
import type { opskitCore } from '@opskit/core'
import type { opskitLogging } from '@opskit/logging'
import type { opskitMetrics } from '@opskit/metrics'
import type { opskitHealth } from '@opskit/health'
import type { opskitSecurityLog } from '@opskit/security-log'
import type { opskitRateLimit } from '@opskit/rate-limit'
import type { opskitAudit } from '@opskit/audit'
import type { opskitAlerts } from '@opskit/alerts'
import type { opskitErrorReports } from '@opskit/error-reports'
import type { opskitOutbound } from '@opskit/outbound'
import type { opskitConsole } from '@opskit/console'
import { loadConfig, type OpskitConfig } from './config.js'
import { FST_OPSKIT_INVALID_OPTION } from './errors.js'

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

export const PARTS = ['core', 'logging', 'metrics', 'health', 'securityLog', 'rateLimit', 'audit', 'outbound', 'cors', 'errorReports', 'alerts', 'console'] as const
const KNOWN_KEYS = new Set<string>(['config', ...PARTS])

/** Validates the suite's own options (unknown keys refused, each part an object or `false`); `config` defaults to `loadConfig()`. */
export function resolveOptions(opts: OpskitOptions): OpskitOptions & { config: OpskitConfig } {
  if (!isPlainObject(opts as unknown)) throw new FST_OPSKIT_INVALID_OPTION('options', 'expected an object')
  refuseUnknownKeys(opts, KNOWN_KEYS, FST_OPSKIT_INVALID_OPTION)
  for (const part of PARTS) {
    const value = opts[part] as unknown
    if (value !== undefined && value !== false && !isPlainObject(value)) {
      throw new FST_OPSKIT_INVALID_OPTION(part, 'expected that plugin\'s options object, or false to turn it off')
    }
  }
  if (opts.config !== undefined && !isPlainObject(opts.config as unknown)) {
    throw new FST_OPSKIT_INVALID_OPTION('config', 'expected the object loadConfig() returns')
  }
  return { ...opts, config: opts.config ?? loadConfig() }
}
