import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { PGlite } from '@electric-sql/pglite'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import pg from 'pg'
import { Counter, Gauge, Registry } from 'prom-client'
import { afterAll, beforeAll } from 'vitest'
import { opskitCore, requestIdGenerator } from '@opskit/core'
import { opskitAudit, type OpskitAuditOptions } from '@opskit/audit'

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
  return `audit_logs_${randomBytes(5).toString('hex')}`
}

/**
 * A test file's database: opened before all tests, its tables (from `newTable()`) dropped and the
 * connection closed after all. `db` can be captured at once; it forwards to the opened database.
 */
export function useTestDb(): { db: TestDb; newTable(): string } {
  let opened: TestDb | undefined
  const tables: string[] = []
  const current = (): TestDb => {
    if (opened === undefined) throw new Error('useTestDb(): the database is opened in beforeAll')
    return opened
  }
  beforeAll(async () => {
    opened = await openTestDb()
  })
  afterAll(async () => {
    for (const table of tables) await current().query(`DROP TABLE IF EXISTS ${table}`)
    await current().close()
  })
  const db: TestDb = {
    get connection() { return current().connection },
    query: (text, params) => current().query(text, params),
    transaction: (fn) => current().transaction(fn),
    close: () => current().close(),
  }
  return {
    db,
    newTable() {
      const table = uniqueTable()
      tables.push(table)
      return table
    },
  }
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
 * Stand-in for @opskit/metrics with the agreed surface (get-or-create counter/gauge over a real
 * prom-client Registry), so these tests do not depend on that package's progress.
 */
export const metricsStandIn = fp(async (fastify: FastifyInstance) => {
  const registry = new Registry()
  const made = new Map<string, unknown>()
  const getOrCreate = (Kind: any) => (cfg: any) => {
    if (!made.has(cfg.name)) made.set(cfg.name, new Kind({ ...cfg, registers: [registry] }))
    return made.get(cfg.name)
  }
  fastify.decorate('metrics' as any, { registry, counter: getOrCreate(Counter), gauge: getOrCreate(Gauge) })
}, { name: 'metrics-stand-in' })

export async function buildApp(
  audit: OpskitAuditOptions,
  opts: { logs?: Writable; metrics?: boolean; routes?: (app: FastifyInstance) => void } = {},
): Promise<FastifyInstance> {
  const app = Fastify({ genReqId: requestIdGenerator(), logger: opts.logs === undefined ? false : { level: 'debug', stream: opts.logs } })
  await app.register(opskitCore, { resolveActor: actorFromHeaders })
  if (opts.metrics === true) await app.register(metricsStandIn)
  await app.register(opskitAudit, audit)
  opts.routes?.(app)
  await app.ready()
  return app
}

export async function metricsText(app: FastifyInstance): Promise<string> {
  return ((app as any).metrics.registry as Registry).metrics()
}
