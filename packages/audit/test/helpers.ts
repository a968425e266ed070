import { Writable } from 'node:stream'
import { PGlite } from '@electric-sql/pglite'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import pg from 'pg'
import { Registry } from 'prom-client'
import { opskitCore, requestIdGenerator } from '@opskit/core'
import { opskitMetrics, type OpskitMetricsOptions } from '@opskit/metrics'
import { opskitAudit, type OpskitAuditOptions } from '@opskit/audit'
import { uniqueTable as uniqueTableOf, useTestDatabase } from '../../../test-utils/pg-database.js'

export const DATABASE_URL = process.env.DATABASE_URL
export const target = DATABASE_URL === undefined ? 'PGlite (DATABASE_URL unset)' : 'PostgreSQL (DATABASE_URL)'

/** The database a test owns: a pg.Pool on DATABASE_URL, or a PGlite instance in memory. */
export interface TestDb {
  connection: pg.Pool | PGlite
  query<R = any>(text: string, params?: unknown[]): Promise<R[]>
  /** Runs fn inside a transaction on one client; throw to roll back. */
  transaction<T>(fn: (client: { query(text: string, params?: unknown[]): Promise<any> }) => Promise<T>): Promise<T>
  close(): Promise<void>
}

export async function openTestDb(): Promise<TestDb> {
  if (DATABASE_URL !== undefined) {
    const pool = new pg.Pool({ connectionString: DATABASE_URL })
    pool.on('error', () => undefined)
    return {
      connection: pool,
      query: async (text, params) => (await pool.query(text, params as unknown[])).rows,
      async transaction(fn) {
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          const result = await fn(client)
          await client.query('COMMIT')
          return result
        } catch (err) {
          await client.query('ROLLBACK')
          throw err
        } finally {
          client.release()
        }
      },
      close: () => pool.end(),
    }
  }
  const db = await PGlite.create()
  return {
    connection: db,
    query: async (text, params) => (await db.query(text, params as any[])).rows as any[],
    transaction: (fn) => db.transaction((tx) => fn(tx)),
    close: () => db.close(),
  }
}

export function uniqueTable(): string {
  return uniqueTableOf('audit_logs')
}

/**
 * A test file's database: opened before all tests, its tables (from `newTable()`) dropped and the
 * connection closed after all. `db` can be captured at once; it forwards to the opened database.
 */
export function useTestDb(): { db: TestDb; newTable(): string } {
  const { db, newTable } = useTestDatabase(openTestDb)
  return { db, newTable: () => newTable('audit_logs') }
}

export interface LogLine { level: number; msg: string; [key: string]: unknown }

/** A Fastify logger that keeps its lines (JSON) for assertions. */
export function captureLogs(): { lines: LogLine[]; stream: Writable } {
  const lines: LogLine[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line))
      cb()
    },
  })
  return { lines, stream }
}

/** Actor from `x-user` (id), `x-email`, `x-role` headers. */
export function actorFromHeaders(request: FastifyRequest) {
  const id = request.headers['x-user']
  if (typeof id !== 'string') return null
  const email = request.headers['x-email']
  const role = request.headers['x-role']
  return { id, email: typeof email === 'string' ? email : undefined, role: typeof role === 'string' ? role : undefined }
}

/**
 * Options of the real @opskit/metrics for these tests: no endpoint (they read the registry), no
 * process metrics, and a registry of the test's own, which the plugin leaves alone at close (it
 * clears one it made), so a test can read what `fastify.close()` counted.
 */
export function testMetricsOptions(): OpskitMetricsOptions {
  return { endpoint: false, defaultMetrics: false, registry: new Registry() }
}

export async function buildApp(
  audit: OpskitAuditOptions,
  opts: { logs?: Writable; metrics?: boolean; routes?: (app: FastifyInstance) => void } = {},
): Promise<FastifyInstance> {
  const app = Fastify({ genReqId: requestIdGenerator(), logger: opts.logs === undefined ? false : { level: 'debug', stream: opts.logs } })
  await app.register(opskitCore, { resolveActor: actorFromHeaders })
  if (opts.metrics === true) await app.register(opskitMetrics, testMetricsOptions())
  await app.register(opskitAudit, audit)
  opts.routes?.(app)
  await app.ready()
  return app
}

/** The app's metrics in the Prometheus text format (the real @opskit/metrics registry). */
export async function metricsText(app: FastifyInstance): Promise<string> {
  return app.metrics.registry.metrics()
}
