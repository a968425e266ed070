import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import type { FastifyBaseLogger } from 'fastify'

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
  query<T = Record<string, unknown>>(text: string, params?: any[]): Promise<{ rows: T[]; affectedRows?: number }>
  exec(text: string): Promise<unknown>
  transaction<T>(fn: (tx: PGliteTransactionLike) => Promise<T>): Promise<T>
  close(): Promise<void>
  readonly closed: boolean
}

/** The transaction PGlite's `transaction()` hands its callback. */
export interface PGliteTransactionLike {
  query<T = Record<string, unknown>>(text: string, params?: any[]): Promise<{ rows: T[]; affectedRows?: number }>
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
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResultLike<R>>
  /** Runs fn with exclusive use of one connection (for migrations under an advisory lock). */
  withClient<T>(fn: (q: Queryable) => Promise<T>): Promise<T>
  /** Ends only what openDatabase opened; a user's pg.Pool is left open. */
  close(): Promise<void>
}

export interface OpenDatabaseOptions {
  logger: FastifyBaseLogger
  /** Package name used in log messages, e.g. `@opskit/audit`. */
  pkg: string
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

function postgresDatabase(pool: pg.Pool, owned: boolean): Database {
  return {
    kind: 'postgres',
    query: (text, params) => pool.query(text, params as unknown[]) as Promise<any>,
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
      if (owned) await pool.end()
    },
  }
}

function pgliteDatabase(db: PGliteLike, owned: boolean): Database {
  // PGlite is one connection. While withClient() holds it (BEGIN ... COMMIT of a migration), other
  // queries wait here so they never land inside that transaction.
  let exclusive: Promise<void> | null = null
  const direct: Queryable = {
    async query(text, params) {
      const result = await db.query(text, params as any[])
      return { rows: result.rows as any[], rowCount: result.affectedRows ?? result.rows.length }
    },
  }
  let closed = false
  return {
    kind: 'pglite',
    async query(text, params) {
      while (exclusive !== null) await exclusive
      return direct.query(text, params) as Promise<any>
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
    const pool = new pg.Pool({ connectionString: connection })
    // An idle client that loses its server emits 'error' on the pool; unhandled, that would crash
    // the process. The next query fails and is retried by the caller instead.
    pool.on('error', (err) => {
      logger.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, `${pkg}: idle PostgreSQL connection failed`)
    })
    return postgresDatabase(pool, true)
  }
  if (connection instanceof PGlite) return pgliteDatabase(connection, false)
  if (isPool(connection)) return postgresDatabase(connection, false)
  if (typeof connection === 'object' && connection !== null && 'embedded' in connection) {
    const dataDir = connection.embedded?.dataDir
    return pgliteDatabase(dataDir === undefined ? await PGlite.create() : await PGlite.create({ dataDir }), true)
  }
  throw new TypeError(`${pkg}: connection must be a pg.Pool, a connection string or { embedded: { dataDir? } }`)
}
