import { isPlainObject, isRedisLike, isRoutePath, refuseUnknownKeys } from '@opskit/core'
import { isConnection, isValidIdent } from '@opskit/store'
import type { Connection } from '@opskit/store'
import type { FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { isSeverity } from './actions.js'
import type { Severity } from './actions.js'
import type { AbuseKeyType } from './abuse-detector.js'
import type { AlertSink } from './alert.js'
import type { SecurityRecord } from './record.js'
import { FST_OPSKIT_SECURITY_LOG_INVALID_OPTION } from './errors.js'


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

const OPTION_KEYS = new Set(['connection', 'table', 'migrate', 'autoCapture', 'redact', 'abuse', 'redis', 'alerts', 'routes', 'queue', 'spool'])
const AUTO_CAPTURE_KEYS = new Set(['unauthorized', 'forbidden', 'rateLimited', 'validation'])
const ABUSE_KEYS = new Set(['windowMs', 'thresholds', 'onSuspicious', 'keyBy', 'maxKeys', 'keyPrefix', 'redisTimeoutMs'])
const ALERT_KEYS = new Set(['sinks', 'minSeverity', 'cooldownMs', 'retries', 'retryBaseMs', 'closeTimeoutMs'])
const ROUTE_KEYS = new Set(['prefix', 'authorize'])
const QUEUE_KEYS = new Set(['maxBatchSize', 'maxQueueSize', 'retryBaseMs', 'retryMaxMs', 'closeTimeoutMs', 'writeTimeoutMs', 'settleTimeoutMs'])
const SPOOL_KEYS = new Set(['dir'])

function fail(option: string, expected: string): never {
  throw new FST_OPSKIT_SECURITY_LOG_INVALID_OPTION(option, expected)
}

/** `value` as an object of known keys (`section.<key>` named when one is unknown), else fails with `expected`. */
function section(value: unknown, name: string, known: ReadonlySet<string>, expected: string): Record<string, unknown> {
  if (!isPlainObject(value)) fail(name, expected)
  refuseUnknownKeys(value, known, FST_OPSKIT_SECURITY_LOG_INVALID_OPTION, `${name}.`)
  return value
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

function resolveStorage(connection: unknown, table: unknown): { connection: Connection | undefined; table: string } {
  if (!isConnection(connection)) fail('connection', 'expected a pg.Pool, a connection string or { embedded: { dataDir? } }')
  if (!isValidIdent(table)) fail('table', 'expected a SQL identifier such as "security_logs" or "audit.security_logs"')
  return { connection, table }
}

function resolveAutoCapture(autoCapture: unknown): Required<AutoCaptureOptions> {
  if (autoCapture === false) return { unauthorized: false, forbidden: false, rateLimited: false, validation: false }
  const given = autoCapture === undefined
    ? {}
    : section(autoCapture, 'autoCapture', AUTO_CAPTURE_KEYS, 'expected false or { unauthorized?, forbidden?, rateLimited?, validation? }')
  const d = DEFAULTS.autoCapture
  return {
    unauthorized: bool(given.unauthorized, d.unauthorized, 'autoCapture.unauthorized'),
    forbidden: bool(given.forbidden, d.forbidden, 'autoCapture.forbidden'),
    rateLimited: bool(given.rateLimited, d.rateLimited, 'autoCapture.rateLimited'),
    validation: bool(given.validation, d.validation, 'autoCapture.validation'),
  }
}

function resolveRedact(redact: unknown): string[] | undefined {
  if (redact === undefined) return undefined
  if (!Array.isArray(redact) || !redact.every((k) => typeof k === 'string' && k.length > 0)) fail('redact', 'expected an array of key names')
  return redact as string[]
}

function resolveRedis(redis: unknown): Redis | string | undefined {
  if (redis === undefined) return undefined
  if (typeof redis === 'string' && /^rediss?:\/\//.test(redis)) return redis
  if (isRedisLike<Redis>(redis)) return redis
  fail('redis', 'expected an ioredis instance or a redis:// URL')
}

function resolveAbuse(abuse: unknown): ResolvedOptions['abuse'] {
  if (abuse === undefined) return undefined
  const given = section(abuse, 'abuse', ABUSE_KEYS, 'expected { windowMs, thresholds, onSuspicious? }')
  const d = DEFAULTS.abuse
  if (!isPlainObject(given.thresholds) || Object.keys(given.thresholds).length === 0) {
    fail('abuse.thresholds', 'expected an object of action → count, e.g. { login_failure: 10 }')
  }
  const thresholds: Record<string, number> = {}
  for (const [action, count] of Object.entries(given.thresholds)) {
    if (action === 'suspicious_activity') fail('abuse.thresholds.suspicious_activity', 'suspicious_activity is what a crossing records; it cannot have a threshold')
    thresholds[action] = int(count, 0, `abuse.thresholds.${action}`, 1, 1_000_000)
  }
  if (given.onSuspicious !== undefined && typeof given.onSuspicious !== 'function') fail('abuse.onSuspicious', 'expected a function (event) => void')
  const keyBy = given.keyBy ?? d.keyBy
  if (!Array.isArray(keyBy) || keyBy.length === 0 || !keyBy.every((k) => k === 'ip' || k === 'user')) {
    fail('abuse.keyBy', 'expected a non-empty array of "ip" and/or "user"')
  }
  const keyPrefix = given.keyPrefix ?? d.keyPrefix
  if (typeof keyPrefix !== 'string') fail('abuse.keyPrefix', 'expected a string')
  return {
    windowMs: int(given.windowMs, d.windowMs, 'abuse.windowMs', 1),
    thresholds,
    onSuspicious: given.onSuspicious as AbuseOptions['onSuspicious'],
    keyBy: [...new Set(keyBy as AbuseKeyType[])],
    maxKeys: int(given.maxKeys, d.maxKeys, 'abuse.maxKeys', 1),
    keyPrefix,
    redisTimeoutMs: int(given.redisTimeoutMs, d.redisTimeoutMs, 'abuse.redisTimeoutMs', 1),
  }
}

function isSink(value: unknown): value is AlertSink {
  return typeof value === 'object' && value !== null && typeof (value as AlertSink).send === 'function' && typeof (value as AlertSink).name === 'string'
}

function resolveAlerts(alerts: unknown): ResolvedOptions['alerts'] {
  if (alerts === undefined) return undefined
  const given = section(alerts, 'alerts', ALERT_KEYS, 'expected { sinks, minSeverity?, cooldownMs? }')
  const d = DEFAULTS.alerts
  if (!Array.isArray(given.sinks) || !given.sinks.every(isSink)) {
    fail('alerts.sinks', 'expected an array of sinks { name, send(alert) } such as webhookSink(url) or telegramSink({ botToken, chatId })')
  }
  const minSeverity = given.minSeverity ?? d.minSeverity
  if (!isSeverity(minSeverity)) fail('alerts.minSeverity', 'expected "info", "warning" or "critical"')
  return {
    sinks: [...(given.sinks as AlertSink[])],
    minSeverity,
    cooldownMs: int(given.cooldownMs, d.cooldownMs, 'alerts.cooldownMs', 0),
    retries: int(given.retries, d.retries, 'alerts.retries', 0, 20),
    retryBaseMs: int(given.retryBaseMs, d.retryBaseMs, 'alerts.retryBaseMs', 1),
    closeTimeoutMs: int(given.closeTimeoutMs, d.closeTimeoutMs, 'alerts.closeTimeoutMs', 0),
  }
}

function resolveRoutes(routes: unknown): ResolvedOptions['routes'] {
  if (routes === undefined) return undefined
  const given = section(routes, 'routes', ROUTE_KEYS, 'expected { prefix?, authorize(request) }')
  if (typeof given.authorize !== 'function') fail('routes.authorize', 'expected a function (request) => boolean | Promise<boolean>; without it the security log is never served')
  const prefix = given.prefix ?? DEFAULTS.routes.prefix
  if (!isRoutePath(prefix)) fail('routes.prefix', 'expected a path starting with "/"')
  return { prefix, authorize: given.authorize as RoutesOptions['authorize'] }
}

function resolveQueue(queue: unknown): Required<QueueOptions> {
  const given = queue === undefined
    ? {}
    : section(queue, 'queue', QUEUE_KEYS, 'expected { maxBatchSize?, maxQueueSize?, retryBaseMs?, retryMaxMs?, closeTimeoutMs?, writeTimeoutMs?, settleTimeoutMs? }')
  const q = DEFAULTS.queue
  return {
    maxBatchSize: int(given.maxBatchSize, q.maxBatchSize, 'queue.maxBatchSize', 1, MAX_BATCH_SIZE),
    maxQueueSize: int(given.maxQueueSize, q.maxQueueSize, 'queue.maxQueueSize', 1),
    retryBaseMs: int(given.retryBaseMs, q.retryBaseMs, 'queue.retryBaseMs', 1),
    retryMaxMs: int(given.retryMaxMs, q.retryMaxMs, 'queue.retryMaxMs', 1),
    closeTimeoutMs: int(given.closeTimeoutMs, q.closeTimeoutMs, 'queue.closeTimeoutMs', 0),
    writeTimeoutMs: int(given.writeTimeoutMs, q.writeTimeoutMs, 'queue.writeTimeoutMs', 1),
    settleTimeoutMs: int(given.settleTimeoutMs, q.settleTimeoutMs, 'queue.settleTimeoutMs', 1),
  }
}

function resolveSpool(spool: unknown): { dir: string } | undefined {
  if (spool === undefined) return undefined
  const given = section(spool, 'spool', SPOOL_KEYS, 'expected { dir: string } (a directory for the spool files)')
  if (typeof given.dir !== 'string' || given.dir.length === 0) fail('spool.dir', 'expected a directory path')
  return { dir: given.dir }
}

/**
 * Validates the options and fills the defaults, one section at a time; throws
 * `FST_OPSKIT_SECURITY_LOG_INVALID_OPTION` naming the option (an unknown key included, at any level).
 */
export function resolveOptions(opts: SecurityLogOptions = {}): ResolvedOptions {
  if (!isPlainObject(opts)) fail('options', 'expected an object')
  refuseUnknownKeys(opts, OPTION_KEYS, FST_OPSKIT_SECURITY_LOG_INVALID_OPTION)
  return {
    ...resolveStorage(opts.connection, opts.table ?? DEFAULTS.table),
    migrate: bool(opts.migrate, DEFAULTS.migrate, 'migrate'),
    autoCapture: resolveAutoCapture(opts.autoCapture),
    redact: resolveRedact(opts.redact),
    abuse: resolveAbuse(opts.abuse),
    redis: resolveRedis(opts.redis),
    alerts: resolveAlerts(opts.alerts),
    routes: resolveRoutes(opts.routes),
    queue: resolveQueue(opts.queue),
    spool: resolveSpool(opts.spool),
  }
}
