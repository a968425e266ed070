import type { FastifyRequest } from 'fastify'
import { isPlainObject, isPositiveInt, refuseUnknownKeys } from '@opskit/core'
import { isConnection, isValidIdent, type Connection } from '@opskit/store'

import { FST_OPSKIT_AUDIT_INVALID_OPTION } from './errors.js'

export interface AutoAuditOptions {
  /** Methods audited automatically. Default `['POST', 'PUT', 'PATCH', 'DELETE']`. */
  methods?: string[]
  /** Route templates or path prefixes never audited automatically, e.g. `['/auth', '/webhooks/:id']`. Default `[]`. */
  ignore?: string[]
}

export interface AuditRoutesOptions {
  /** Path of the query route. Default `'/audit'`. */
  prefix?: string
  /** Who may read the trail. Without it no route is registered (never public by accident). */
  authorize?: (request: FastifyRequest) => boolean | Promise<boolean>
}

export interface AuditQueueOptions {
  /** Most rows per INSERT (at most 10000). Default `500`. */
  maxBatchSize?: number
  /** Most accepted-but-unwritten events before `record()` rejects `FST_OPSKIT_QUEUE_FULL`. Default `100000`. */
  maxQueueSize?: number
  /** INSERTs in flight at once (each on its own pool connection; PGlite runs them one by one). Default `2`. */
  maxConcurrentWrites?: number
  /** First retry delay after a failed INSERT, doubling with jitter. Default `100`. */
  retryBaseMs?: number
  /** Longest retry delay. Default `5000`. */
  retryMaxMs?: number
  /** How long `fastify.close()` keeps retrying before giving up on unwritten events (logged). Default `30000`. */
  closeTimeoutMs?: number
  /** One INSERT attempt not answered after this many ms counts as failed (logged) and is retried. Default `5000`. */
  writeTimeoutMs?: number
  /**
   * An awaited `record()` / `request.audit()` not committed after this many ms rejects
   * `NotCommittedError` (`FST_OPSKIT_NOT_COMMITTED`); the event stays queued and is written once the
   * database answers. Default `10000`.
   */
  settleTimeoutMs?: number
}

export interface OpskitAuditOptions {
  /** A `pg.Pool`, a connection string, `{ embedded: { dataDir } }` (PGlite on disk) or a PGlite instance. Default: PGlite in memory, with a WARN. */
  connection?: Connection
  /** Table name (`name` or `schema.name`). Default `'audit_logs'`. */
  table?: string
  /** Create the table and indexes at startup. Default `true`. */
  migrate?: boolean
  /** Audit successful writes the handler did not audit itself. Default `false`. */
  autoAudit?: boolean | AutoAuditOptions
  /** Extra keys to redact in stored values, on top of core's set. Default `[]`. */
  redact?: string[]
  /** The query route. Default: none. */
  routes?: AuditRoutesOptions
  /** Delete rows older than this many days (at start, then hourly). Default: keep forever. */
  retentionDays?: number
  /** Group-commit tuning. */
  queue?: AuditQueueOptions
  /** Link each row to the previous one by SHA-256 (`prev_hash`, `hash`), checked by `verify()`. Default `false`. */
  chain?: boolean
  /**
   * Durable spool: accepted events are appended to a file in `dir` (one fsync per group) before
   * they are written to the database, replayed at the next start and deleted once committed, so a
   * SIGKILL during an outage loses nothing accepted. One process per `dir`. Default: off.
   */
  spool?: { dir: string }
}

export interface ResolvedAuditOptions {
  connection: Connection | undefined
  table: string
  migrate: boolean
  autoAudit: { methods: Set<string>; ignore: string[] } | null
  redact: string[] | undefined
  routes: { prefix: string; authorize: AuditRoutesOptions['authorize'] }
  retentionDays: number | undefined
  queue: Required<AuditQueueOptions>
  chain: boolean
  spool: { dir: string } | undefined
}

export const DEFAULTS = {
  table: 'audit_logs',
  migrate: true,
  methods: ['POST', 'PUT', 'PATCH', 'DELETE'],
  prefix: '/audit',
  maxBatchSize: 500,
  maxQueueSize: 100_000,
  maxConcurrentWrites: 2,
  retryBaseMs: 100,
  retryMaxMs: 5000,
  closeTimeoutMs: 30_000,
  writeTimeoutMs: 5000,
  settleTimeoutMs: 10_000,
} as const

// One INSERT carries the whole batch; beyond this a statement gets too big to be worth it.
const MAX_BATCH_SIZE = 10_000

const OPTION_KEYS = new Set(['connection', 'table', 'migrate', 'autoAudit', 'redact', 'routes', 'retentionDays', 'queue', 'chain', 'spool'])
const AUTO_AUDIT_KEYS = new Set(['methods', 'ignore'])
const ROUTES_KEYS = new Set(['prefix', 'authorize'])
const QUEUE_KEYS = new Set(['maxBatchSize', 'maxQueueSize', 'maxConcurrentWrites', 'retryBaseMs', 'retryMaxMs', 'closeTimeoutMs', 'writeTimeoutMs', 'settleTimeoutMs'])
const SPOOL_KEYS = new Set(['dir'])

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

function positiveInt(name: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (!isPositiveInt(value) || value > max) {
    throw new FST_OPSKIT_AUDIT_INVALID_OPTION(name, max === Number.MAX_SAFE_INTEGER ? 'expected a positive integer' : `expected an integer from 1 to ${max}`)
  }
  return value
}

function stringArray(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new FST_OPSKIT_AUDIT_INVALID_OPTION(name, 'expected an array of non-empty strings')
  }
  return value as string[]
}

/** Validates options once at `register()`; a bad one throws `FST_OPSKIT_AUDIT_INVALID_OPTION` naming it. */
export function resolveOptions(opts: OpskitAuditOptions): ResolvedAuditOptions {
  refuseUnknownKeys(opts, OPTION_KEYS, FST_OPSKIT_AUDIT_INVALID_OPTION)
  const {
    connection,
    table = DEFAULTS.table,
    migrate = DEFAULTS.migrate,
    autoAudit = false,
    redact,
    routes = {},
    retentionDays,
    queue = {},
    chain = false,
    spool,
  } = opts
  if (!isConnection(connection)) {
    throw new FST_OPSKIT_AUDIT_INVALID_OPTION('connection', 'expected a pg.Pool, a connection string, { embedded: { dataDir? } } or a PGlite instance')
  }
  if (!isValidIdent(table)) throw new FST_OPSKIT_AUDIT_INVALID_OPTION('table', 'expected a SQL identifier such as "audit_logs" or "ops.audit_logs"')
  if (typeof migrate !== 'boolean') throw new FST_OPSKIT_AUDIT_INVALID_OPTION('migrate', 'expected a boolean')

  let auto: ResolvedAuditOptions['autoAudit'] = null
  if (autoAudit === true || isPlainObject(autoAudit)) {
    if (autoAudit !== true) refuseUnknownKeys(autoAudit, AUTO_AUDIT_KEYS, FST_OPSKIT_AUDIT_INVALID_OPTION, 'autoAudit.')
    const { methods = DEFAULTS.methods, ignore = [] } = autoAudit === true ? {} : (autoAudit as AutoAuditOptions)
    const upper = stringArray('autoAudit.methods', methods).map((m) => m.toUpperCase())
    for (const method of upper) {
      if (!HTTP_METHODS.has(method)) throw new FST_OPSKIT_AUDIT_INVALID_OPTION('autoAudit.methods', `unknown HTTP method "${method}"`)
    }
    auto = { methods: new Set(upper), ignore: stringArray('autoAudit.ignore', ignore) }
  } else if (autoAudit !== false) {
    throw new FST_OPSKIT_AUDIT_INVALID_OPTION('autoAudit', 'expected false, true or { methods?, ignore? }')
  }

  if (redact !== undefined) stringArray('redact', redact)
  if (!isPlainObject(routes)) throw new FST_OPSKIT_AUDIT_INVALID_OPTION('routes', 'expected { prefix?, authorize }')
  refuseUnknownKeys(routes, ROUTES_KEYS, FST_OPSKIT_AUDIT_INVALID_OPTION, 'routes.')
  const { prefix = DEFAULTS.prefix, authorize } = routes as AuditRoutesOptions
  if (typeof prefix !== 'string' || !prefix.startsWith('/')) throw new FST_OPSKIT_AUDIT_INVALID_OPTION('routes.prefix', 'expected a path starting with "/"')
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw new FST_OPSKIT_AUDIT_INVALID_OPTION('routes.authorize', 'expected a function (request) => boolean | Promise<boolean>')
  }
  if (retentionDays !== undefined && (typeof retentionDays !== 'number' || !Number.isFinite(retentionDays) || retentionDays <= 0)) {
    throw new FST_OPSKIT_AUDIT_INVALID_OPTION('retentionDays', 'expected a number of days > 0')
  }
  if (typeof chain !== 'boolean') throw new FST_OPSKIT_AUDIT_INVALID_OPTION('chain', 'expected a boolean')
  if (!isPlainObject(queue)) throw new FST_OPSKIT_AUDIT_INVALID_OPTION('queue', 'expected { maxBatchSize?, maxQueueSize?, maxConcurrentWrites?, retryBaseMs?, retryMaxMs?, closeTimeoutMs?, writeTimeoutMs?, settleTimeoutMs? }')
  refuseUnknownKeys(queue, QUEUE_KEYS, FST_OPSKIT_AUDIT_INVALID_OPTION, 'queue.')
  const q = queue as AuditQueueOptions
  if (spool !== undefined && (!isPlainObject(spool) || typeof spool.dir !== 'string' || spool.dir.length === 0)) {
    throw new FST_OPSKIT_AUDIT_INVALID_OPTION('spool', 'expected { dir: string } (a directory for the spool files)')
  }
  if (spool !== undefined) refuseUnknownKeys(spool, SPOOL_KEYS, FST_OPSKIT_AUDIT_INVALID_OPTION, 'spool.')
  return {
    connection,
    table,
    migrate,
    autoAudit: auto,
    redact: redact !== undefined && redact.length > 0 ? redact : undefined,
    routes: { prefix, authorize },
    retentionDays,
    queue: {
      maxBatchSize: positiveInt('queue.maxBatchSize', q.maxBatchSize, DEFAULTS.maxBatchSize, MAX_BATCH_SIZE),
      maxQueueSize: positiveInt('queue.maxQueueSize', q.maxQueueSize, DEFAULTS.maxQueueSize),
      maxConcurrentWrites: positiveInt('queue.maxConcurrentWrites', q.maxConcurrentWrites, DEFAULTS.maxConcurrentWrites, 16),
      retryBaseMs: positiveInt('queue.retryBaseMs', q.retryBaseMs, DEFAULTS.retryBaseMs),
      retryMaxMs: positiveInt('queue.retryMaxMs', q.retryMaxMs, DEFAULTS.retryMaxMs),
      closeTimeoutMs: positiveInt('queue.closeTimeoutMs', q.closeTimeoutMs, DEFAULTS.closeTimeoutMs),
      writeTimeoutMs: positiveInt('queue.writeTimeoutMs', q.writeTimeoutMs, DEFAULTS.writeTimeoutMs),
      settleTimeoutMs: positiveInt('queue.settleTimeoutMs', q.settleTimeoutMs, DEFAULTS.settleTimeoutMs),
    },
    chain,
    spool: spool === undefined ? undefined : { dir: spool.dir },
  }
}
