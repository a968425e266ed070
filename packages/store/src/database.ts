import { AsyncResource } from 'node:async_hooks'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import type { FastifyBaseLogger } from 'fastify'
import { InvalidConnectionError } from './errors.js'

/**
 * Where rows go: a `pg.Pool` (used as is), a connection string, embedded PGlite (on disk with
 * `dataDir`), or the app's own `PGlite` instance (used as is, so its transactions can carry rows).
 */
export type Connection = pg.Pool | string | { embedded: { dataDir?: string } } | PGliteLike

/**
 * What opskit uses of a PGlite instance (a `PGlite` from `@electric-sql/pglite` fits). Declared here
 * so that opskit's declarations do not pull in PGlite's, which need Emscripten's types and fail a
 * consumer's `skipLibCheck: false` build.
 */
export interface PGliteLike {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>
  exec(text: string): Promise<unknown>
  transaction<T>(fn: (tx: PGliteTransactionLike) => Promise<T>): Promise<T>
  close(): Promise<void>
  readonly closed: boolean
}

/** The transaction PGlite's `transaction()` hands its callback. */
export interface PGliteTransactionLike {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>
  exec(text: string): Promise<unknown>
  rollback(): Promise<void>
}

export interface QueryResultLike<R = any> {
  rows: R[]
  rowCount: number | null
}

/** Anything that runs a parameterized query: `pg.Pool`, `pg.PoolClient`, `pg.Client` fit. */
export interface Queryable {
  query(text: string, params?: unknown[]): Promise<QueryResultLike>
}

export interface Database {
  readonly kind: 'postgres' | 'pglite'
  /** `name`: run as that named prepared statement on PostgreSQL (ignored by PGlite). */
  query<R = Record<string, unknown>>(text: string, params?: unknown[], name?: string): Promise<QueryResultLike<R>>
  /** Runs fn with exclusive use of one connection (for migrations under an advisory lock). */
  withClient<T>(fn: (q: Queryable) => Promise<T>): Promise<T>
  /** Ends only what openDatabase opened; a user's pg.Pool is left open. */
  close(): Promise<void>
}

/** Bounds on every wait on PostgreSQL, for the pool `openDatabase()` makes from a connection string. */
export interface DatabaseTimeouts {
  /** Opening a connection (TCP + startup), and waiting for a free one: `connectionTimeoutMillis`. Default `5000`. */
  connectMs?: number
  /**
   * One statement: the server cancels it (`statement_timeout`) and the client gives up waiting for
   * an answer 1 s later (`query_timeout`, for a server that went silent). Default `10000`.
   */
  queryMs?: number
  /** A transaction left open (a migration whose client went silent): `idle_in_transaction_session_timeout`. Default `10000`. */
  idleInTransactionMs?: number
  /** How long `close()` waits for the pool to end before it destroys the connections still open. Default `2000`. */
  closeMs?: number
}

export const DEFAULT_TIMEOUTS: Required<DatabaseTimeouts> = { connectMs: 5000, queryMs: 10_000, idleInTransactionMs: 10_000, closeMs: 2000 }

export interface OpenDatabaseOptions {
  logger: FastifyBaseLogger
  /** Package name used in log messages, e.g. `@opskit/audit`. */
  pkg: string
  /** Timeouts of the pool made from a connection string (a `pg.Pool` you pass keeps its own). */
  timeouts?: DatabaseTimeouts
}

function isPool(value: unknown): value is pg.Pool {
  return value instanceof pg.Pool || (
    typeof value === 'object' && value !== null &&
    typeof (value as pg.Pool).query === 'function' &&
    typeof (value as pg.Pool).connect === 'function'
  )
}

/** True when `value` is something `openDatabase()` accepts (undefined included). */
export function isConnection(value: unknown): value is Connection | undefined {
  if (value === undefined || typeof value === 'string') return value === undefined || value.length > 0
  if (isPool(value) || value instanceof PGlite) return true
  if (typeof value === 'object' && value !== null && 'embedded' in value) {
    const embedded = (value as { embedded: unknown }).embedded
    if (typeof embedded !== 'object' || embedded === null) return false
    const dataDir = (embedded as { dataDir?: unknown }).dataDir
    return dataDir === undefined || (typeof dataDir === 'string' && dataDir.length > 0)
  }
  return false
}

function postgresDatabase(pool: pg.Pool, owned: boolean, closeMs = DEFAULT_TIMEOUTS.closeMs): Database {
  // The clients of a pool we own, so close() can destroy the ones a silent server never lets end.
  const clients = new Set<pg.Client>()
  if (owned) {
    pool.on('connect', (client) => clients.add(client))
    pool.on('remove', (client) => clients.delete(client))
  }
  return {
    kind: 'postgres',
    query: <R>(text: string, params?: unknown[], name?: string) =>
      name === undefined ? pool.query<R & pg.QueryResultRow>(text, params) : pool.query<R & pg.QueryResultRow>({ name, text, values: params }),
    async withClient(fn) {
      const client = await pool.connect()
      let failed: Error | undefined
      try {
        return await fn(client)
      } catch (err) {
        failed = err as Error
        throw err
      } finally {
        // A client whose work failed may be mid-transaction or broken: destroy it rather than reuse.
        client.release(failed)
      }
    },
    async close() {
      if (!owned) return
      let timer: NodeJS.Timeout | undefined
      const ended = pool.end().then(() => true, () => true)
      const late = new Promise<false>((resolve) => {
        timer = setTimeout(resolve, closeMs, false)
        timer.unref()
      })
      const done = await Promise.race([ended, late])
      clearTimeout(timer)
      if (done) return
      // A hung server (or a proxy that swallows packets) never ends its connections: drop them.
      for (const client of clients) client.connection?.stream?.destroy()
      clients.clear()
    },
  }
}

function pgliteDatabase(db: PGliteLike, owned: boolean): Database {
  // PGlite is one connection. While withClient() holds it (BEGIN ... COMMIT of a migration), other
  // queries wait here so they never land inside that transaction.
  let exclusive: Promise<void> | null = null
  const direct: Queryable = {
    async query(text, params) {
      const result = await db.query(text, params)
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length }
    },
  }
  let closed = false
  return {
    kind: 'pglite',
    async query(text, params) {
      while (exclusive !== null) await exclusive
      return direct.query(text, params)
    },
    async withClient(fn) {
      while (exclusive !== null) await exclusive
      let release!: () => void
      exclusive = new Promise<void>((resolve) => { release = resolve })
      try {
        return await fn(direct)
      } finally {
        exclusive = null
        release()
      }
    },
    async close() {
      if (closed || !owned) return
      closed = true
      await db.close()
    },
  }
}

/**
 * Opens the store behind audit / security-log.
 * - `undefined`: PGlite in memory, with one WARN that events are lost on restart.
 * - a string: a new `pg.Pool({ connectionString })`, ended by `close()`.
 * - a `pg.Pool`: used as is and never ended by `close()`.
 * - `{ embedded: { dataDir } }`: PGlite on disk (in memory without `dataDir`).
 * - a `PGlite` instance: used as is and never closed by `close()`.
 */
export async function openDatabase(connection: Connection | undefined, opts: OpenDatabaseOptions): Promise<Database> {
  const { logger, pkg } = opts
  if (connection === undefined) {
    logger.warn(`${pkg}: no connection given, using embedded PGlite in memory; events are lost on restart`)
    return pgliteDatabase(await PGlite.create(), true)
  }
  if (typeof connection === 'string') {
    const t = { ...DEFAULT_TIMEOUTS, ...opts.timeouts }
    const pool = new pg.Pool({
      connectionString: connection,
      connectionTimeoutMillis: t.connectMs,
      statement_timeout: t.queryMs,
      query_timeout: t.queryMs + 1000,
      idle_in_transaction_session_timeout: t.idleInTransactionMs,
      keepAlive: true,
    })
    // An idle client that loses its server emits 'error' on the pool; unhandled, that would crash
    // the process. The next query fails and is retried by the caller instead.
    // Bound to this (registration) context: the connection may have been opened by a request's
    // query, and this line is not about that request.
    pool.on('error', AsyncResource.bind((err: Error) => {
      logger.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, `${pkg}: idle PostgreSQL connection failed`)
    }))
    return postgresDatabase(pool, true, t.closeMs)
  }
  if (connection instanceof PGlite) return pgliteDatabase(connection, false)
  if (isPool(connection)) return postgresDatabase(connection, false)
  if (typeof connection === 'object' && connection !== null && 'embedded' in connection) {
    const dataDir = connection.embedded?.dataDir
    return pgliteDatabase(dataDir === undefined ? await PGlite.create() : await PGlite.create({ dataDir }), true)
  }
  throw new InvalidConnectionError(pkg)
}
