import { createOptionError } from '@opskit/core'
import { isConnection, isValidIdent } from '@opskit/store'
import type { Connection } from '@opskit/store'
import type { FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { isSeverity } from './actions.js'
import type { Severity } from './actions.js'
import type { AbuseKeyType } from './abuse-detector.js'
import type { AlertSink } from './alert.js'
import type { SecurityRecord } from './record.js'

export const FST_SECURITY_LOG_INVALID_OPTION = createOptionError('FST_SECURITY_LOG_INVALID_OPTION', '@opskit/security-log')

/** Which responses record an event on their own. Each key defaults as shown. */
export interface AutoCaptureOptions {
  /** `401` → `token_invalid`. Default `true`. */
  unauthorized?: boolean
  /** `403` → `authz_denied`. Default `true`. */
  forbidden?: boolean
  /** `429` → `rate_limit_hit`. Default `true`. */
  rateLimited?: boolean
  /** `400` → `input_validation_fail`. Default `false`. */
  validation?: boolean
}

export interface AbuseOptions {
  /** Sliding window length in ms. Default `60000`. */
  windowMs?: number
  /** Action → events per window and key that make it suspicious, e.g. `{ login_failure: 10 }`. */
  thresholds: Record<string, number>
  /** Called once per crossing with the `suspicious_activity` event (block an IP, lock an account...). */
  onSuspicious?(event: SecurityRecord): void | Promise<void>
  /** What to count by. Default `['ip', 'user']`. */
  keyBy?: AbuseKeyType[]
  /** Most keys the in-memory counters hold (least recently used forgotten first). Default `10000`. */
  maxKeys?: number
  /** Redis key prefix. Default `'opskit:security:'`. */
  keyPrefix?: string
  /** A Redis call slower than this counts in memory instead. Default `1000` ms. */
  redisTimeoutMs?: number
}

export interface AlertOptions {
  /** Where alerts go. */
  sinks: AlertSink[]
  /** Lowest severity that alerts. Default `'critical'`. */
  minSeverity?: Severity
  /** The same action alerts at most once per this many ms (per instance). Default `300000` (5 min). */
  cooldownMs?: number
  /** Retries of a failed delivery, with exponential backoff. Default `3`. */
  retries?: number
  /** First retry delay in ms (doubles each time, with jitter). Default `1000`. */
  retryBaseMs?: number
  /** How long `close()` waits for deliveries in flight. Default `5000` ms. */
  closeTimeoutMs?: number
}

export interface RoutesOptions {
  /** Path of the list route. Default `'/security/events'`. */
  prefix?: string
  /** Who may read security events. Required: without it no route is registered. */
  authorize(request: FastifyRequest): boolean | Promise<boolean>
}

export interface QueueOptions {
  /** Most rows per INSERT. Default `500`. */
  maxBatchSize?: number
  /** Most accepted-but-unwritten events; beyond it recording rejects (and logs ERROR). Default `100000`. */
  maxQueueSize?: number
  /** First retry delay of a failed INSERT. Default `100` ms. */
  retryBaseMs?: number
  /** Longest retry delay. Default `5000` ms. */
  retryMaxMs?: number
  /** How long `fastify.close()` keeps trying to write what was accepted. Default `30000` ms. */
  closeTimeoutMs?: number
  /** One INSERT attempt not answered after this many ms counts as failed (logged) and is retried. Default `5000`. */
  writeTimeoutMs?: number
  /**
   * An awaited `record()` / `request.securityEvent()` not committed after this many ms rejects
   * `NotCommittedError` (`FST_OPSKIT_NOT_COMMITTED`); the event stays queued and is written once
   * the database answers. Default `10000`.
   */
  settleTimeoutMs?: number
}

export interface SecurityLogOptions {
  /** A `pg.Pool`, a connection string or `{ embedded: { dataDir? } }`. Default: PGlite in memory (with a WARN). */
  connection?: Connection
  /** Table name (`name` or `schema.name`). Default `'security_logs'`. */
  table?: string
  /** Create the table and indexes at startup (idempotent). Default `true`. */
  migrate?: boolean
  /** `false` turns auto capture off. Default `{ unauthorized: true, forbidden: true, rateLimited: true, validation: false }`. */
  autoCapture?: false | AutoCaptureOptions
  /** Extra detail keys to redact, on top of core's set. Default none. */
  redact?: string[]
  /** Abuse detection. Default off. */
  abuse?: AbuseOptions
  /** An ioredis instance or URL for the abuse counters (shared by every instance). Default: memory. */
  redis?: Redis | string
  /** Alert sinks. Default none. */
  alerts?: AlertOptions
  /** The list route. Default none. */
  routes?: RoutesOptions
  /** Group-commit tuning. */
  queue?: QueueOptions
  /**
   * Durable spool: accepted events are appended to a file in `dir` (one fsync per group) before
   * they are written to the database, replayed at the next start and deleted once committed, so a
   * SIGKILL during an outage loses nothing accepted. One process per `dir`. Default: off.
   */
  spool?: { dir: string }
}

export interface ResolvedOptions {
  connection: Connection | undefined
  table: string
  migrate: boolean
  autoCapture: Required<AutoCaptureOptions>
  redact: string[] | undefined
  abuse: (Required<Omit<AbuseOptions, 'onSuspicious'>> & Pick<AbuseOptions, 'onSuspicious'>) | undefined
  redis: Redis | string | undefined
  alerts: Required<AlertOptions> | undefined
  routes: Required<RoutesOptions> | undefined
  queue: Required<QueueOptions>
  spool: { dir: string } | undefined
}

export const DEFAULTS = {
  table: 'security_logs',
  migrate: true,
  autoCapture: { unauthorized: true, forbidden: true, rateLimited: true, validation: false },
  abuse: { windowMs: 60_000, keyBy: ['ip', 'user'] as AbuseKeyType[], maxKeys: 10_000, keyPrefix: 'opskit:security:', redisTimeoutMs: 1000 },
  alerts: { minSeverity: 'critical' as Severity, cooldownMs: 300_000, retries: 3, retryBaseMs: 1000, closeTimeoutMs: 5000 },
  routes: { prefix: '/security/events' },
  queue: { maxBatchSize: 500, maxQueueSize: 100_000, retryBaseMs: 100, retryMaxMs: 5000, closeTimeoutMs: 30_000, writeTimeoutMs: 5000, settleTimeoutMs: 10_000 },
} as const

// 11 parameters per row; PostgreSQL allows 65535 per statement.
const MAX_BATCH_SIZE = 5000

function fail(option: string, expected: string): never {
  throw new FST_SECURITY_LOG_INVALID_OPTION(option, expected)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function bool(value: unknown, fallback: boolean, option: string): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(option, 'expected true or false')
  return value
}

function int(value: unknown, fallback: number, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(option, max === Number.MAX_SAFE_INTEGER ? `expected an integer ≥ ${min}` : `expected an integer from ${min} to ${max}`)
  }
  return value
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], option: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${option}.${key}`, `unknown option (known: ${allowed.join(', ')})`)
  }
}

function isRedisLike(value: unknown): value is Redis {
  return isPlainObjectish(value) && typeof (value as Redis).evalsha === 'function' && typeof (value as Redis).eval === 'function'
}

function isPlainObjectish(value: unknown): boolean {
  return typeof value === 'object' && value !== null
}

/** Validates the options and fills the defaults; throws `FST_SECURITY_LOG_INVALID_OPTION` naming the option. */
export function resolveOptions(opts: SecurityLogOptions = {}): ResolvedOptions {
  if (!isPlainObject(opts)) fail('options', 'expected an object')
  onlyKeys(opts as Record<string, unknown>, ['connection', 'table', 'migrate', 'autoCapture', 'redact', 'abuse', 'redis', 'alerts', 'routes', 'queue', 'spool'], 'options')
  const { connection, table = DEFAULTS.table, migrate, autoCapture, redact, abuse, redis, alerts, routes, queue = {}, spool } = opts

  if (!isConnection(connection)) fail('connection', 'expected a pg.Pool, a connection string or { embedded: { dataDir? } }')
  if (!isValidIdent(table)) fail('table', 'expected a SQL identifier such as "security_logs" or "audit.security_logs"')

  let capture: Required<AutoCaptureOptions>
  if (autoCapture === false) {
    capture = { unauthorized: false, forbidden: false, rateLimited: false, validation: false }
  } else if (autoCapture === undefined || isPlainObject(autoCapture)) {
    const given = autoCapture ?? {}
    onlyKeys(given as Record<string, unknown>, ['unauthorized', 'forbidden', 'rateLimited', 'validation'], 'autoCapture')
    const d = DEFAULTS.autoCapture
    capture = {
      unauthorized: bool(given.unauthorized, d.unauthorized, 'autoCapture.unauthorized'),
      forbidden: bool(given.forbidden, d.forbidden, 'autoCapture.forbidden'),
      rateLimited: bool(given.rateLimited, d.rateLimited, 'autoCapture.rateLimited'),
      validation: bool(given.validation, d.validation, 'autoCapture.validation'),
    }
  } else {
    fail('autoCapture', 'expected false or { unauthorized?, forbidden?, rateLimited?, validation? }')
  }

  if (redact !== undefined && (!Array.isArray(redact) || !redact.every((k) => typeof k === 'string' && k.length > 0))) {
    fail('redact', 'expected an array of key names')
  }

  if (redis !== undefined) {
    if (typeof redis === 'string') {
      if (!/^rediss?:\/\//.test(redis)) fail('redis', 'expected an ioredis instance or a redis:// URL')
    } else if (!isRedisLike(redis)) {
      fail('redis', 'expected an ioredis instance or a redis:// URL')
    }
  }

  let resolvedAbuse: ResolvedOptions['abuse']
  if (abuse !== undefined) {
    if (!isPlainObject(abuse)) fail('abuse', 'expected { windowMs, thresholds, onSuspicious? }')
    onlyKeys(abuse, ['windowMs', 'thresholds', 'onSuspicious', 'keyBy', 'maxKeys', 'keyPrefix', 'redisTimeoutMs'], 'abuse')
    const d = DEFAULTS.abuse
    if (!isPlainObject(abuse.thresholds) || Object.keys(abuse.thresholds).length === 0) {
      fail('abuse.thresholds', 'expected an object of action → count, e.g. { login_failure: 10 }')
    }
    const thresholds: Record<string, number> = {}
    for (const [action, count] of Object.entries(abuse.thresholds)) {
      if (action === 'suspicious_activity') fail('abuse.thresholds.suspicious_activity', 'suspicious_activity is what a crossing records; it cannot have a threshold')
      thresholds[action] = int(count, 0, `abuse.thresholds.${action}`, 1, 1_000_000)
    }
    if (abuse.onSuspicious !== undefined && typeof abuse.onSuspicious !== 'function') fail('abuse.onSuspicious', 'expected a function (event) => void')
    const keyBy = abuse.keyBy ?? d.keyBy
    if (!Array.isArray(keyBy) || keyBy.length === 0 || !keyBy.every((k) => k === 'ip' || k === 'user')) {
      fail('abuse.keyBy', 'expected a non-empty array of "ip" and/or "user"')
    }
    const keyPrefix = abuse.keyPrefix ?? d.keyPrefix
    if (typeof keyPrefix !== 'string') fail('abuse.keyPrefix', 'expected a string')
    resolvedAbuse = {
      windowMs: int(abuse.windowMs, d.windowMs, 'abuse.windowMs', 1),
      thresholds,
      onSuspicious: abuse.onSuspicious as AbuseOptions['onSuspicious'],
      keyBy: [...new Set(keyBy)],
      maxKeys: int(abuse.maxKeys, d.maxKeys, 'abuse.maxKeys', 1),
      keyPrefix,
      redisTimeoutMs: int(abuse.redisTimeoutMs, d.redisTimeoutMs, 'abuse.redisTimeoutMs', 1),
    }
  }

  let resolvedAlerts: ResolvedOptions['alerts']
  if (alerts !== undefined) {
    if (!isPlainObject(alerts)) fail('alerts', 'expected { sinks, minSeverity?, cooldownMs? }')
    onlyKeys(alerts, ['sinks', 'minSeverity', 'cooldownMs', 'retries', 'retryBaseMs', 'closeTimeoutMs'], 'alerts')
    const d = DEFAULTS.alerts
    if (!Array.isArray(alerts.sinks) || !alerts.sinks.every((s) => isPlainObjectish(s) && typeof s.send === 'function' && typeof s.name === 'string')) {
      fail('alerts.sinks', 'expected an array of sinks { name, send(alert) } such as webhookSink(url) or telegramSink({ botToken, chatId })')
    }
    const minSeverity = alerts.minSeverity ?? d.minSeverity
    if (!isSeverity(minSeverity)) fail('alerts.minSeverity', 'expected "info", "warning" or "critical"')
    resolvedAlerts = {
      sinks: [...alerts.sinks],
      minSeverity,
      cooldownMs: int(alerts.cooldownMs, d.cooldownMs, 'alerts.cooldownMs', 0),
      retries: int(alerts.retries, d.retries, 'alerts.retries', 0, 20),
      retryBaseMs: int(alerts.retryBaseMs, d.retryBaseMs, 'alerts.retryBaseMs', 1),
      closeTimeoutMs: int(alerts.closeTimeoutMs, d.closeTimeoutMs, 'alerts.closeTimeoutMs', 0),
    }
  }

  let resolvedRoutes: ResolvedOptions['routes']
  if (routes !== undefined) {
    if (!isPlainObject(routes)) fail('routes', 'expected { prefix?, authorize(request) }')
    onlyKeys(routes, ['prefix', 'authorize'], 'routes')
    if (typeof routes.authorize !== 'function') fail('routes.authorize', 'expected a function (request) => boolean | Promise<boolean>; without it the security log is never served')
    const prefix = routes.prefix ?? DEFAULTS.routes.prefix
    if (typeof prefix !== 'string' || !prefix.startsWith('/')) fail('routes.prefix', 'expected a path starting with "/"')
    resolvedRoutes = { prefix, authorize: routes.authorize as RoutesOptions['authorize'] }
  }

  if (!isPlainObject(queue)) fail('queue', 'expected { maxBatchSize?, maxQueueSize?, retryBaseMs?, retryMaxMs?, closeTimeoutMs?, writeTimeoutMs?, settleTimeoutMs? }')
  onlyKeys(queue, ['maxBatchSize', 'maxQueueSize', 'retryBaseMs', 'retryMaxMs', 'closeTimeoutMs', 'writeTimeoutMs', 'settleTimeoutMs'], 'queue')
  const q = DEFAULTS.queue
  if (spool !== undefined) {
    if (!isPlainObject(spool)) fail('spool', 'expected { dir: string } (a directory for the spool files)')
    onlyKeys(spool, ['dir'], 'spool')
    if (typeof spool.dir !== 'string' || spool.dir.length === 0) fail('spool.dir', 'expected a directory path')
  }
  return {
    connection,
    table,
    migrate: bool(migrate, DEFAULTS.migrate, 'migrate'),
    autoCapture: capture,
    redact,
    abuse: resolvedAbuse,
    redis,
    alerts: resolvedAlerts,
    routes: resolvedRoutes,
    queue: {
      maxBatchSize: int(queue.maxBatchSize, q.maxBatchSize, 'queue.maxBatchSize', 1, MAX_BATCH_SIZE),
      maxQueueSize: int(queue.maxQueueSize, q.maxQueueSize, 'queue.maxQueueSize', 1),
      retryBaseMs: int(queue.retryBaseMs, q.retryBaseMs, 'queue.retryBaseMs', 1),
      retryMaxMs: int(queue.retryMaxMs, q.retryMaxMs, 'queue.retryMaxMs', 1),
      closeTimeoutMs: int(queue.closeTimeoutMs, q.closeTimeoutMs, 'queue.closeTimeoutMs', 0),
      writeTimeoutMs: int(queue.writeTimeoutMs, q.writeTimeoutMs, 'queue.writeTimeoutMs', 1),
      settleTimeoutMs: int(queue.settleTimeoutMs, q.settleTimeoutMs, 'queue.settleTimeoutMs', 1),
    },
    spool: spool === undefined ? undefined : { dir: spool.dir as string },
  }
}
