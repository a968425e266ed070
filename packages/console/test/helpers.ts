import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { PGlite } from '@electric-sql/pglite'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import pg from 'pg'
import { opskitCore, requestIdGenerator, type Actor } from '@opskit/core'
import { opskitMetrics } from '@opskit/metrics'
import { opskitHealth } from '@opskit/health'
import { opskitRateLimit } from '@opskit/rate-limit'
import { opskitAudit } from '@opskit/audit'
import { opskitSecurityLog } from '@opskit/security-log'
import { opskitConsole, type OpskitConsoleOptions } from '@opskit/console'

export const DATABASE_URL = process.env.DATABASE_URL
export const target = DATABASE_URL === undefined ? 'PGlite (DATABASE_URL unset)' : 'PostgreSQL (DATABASE_URL)'

/** A database the test owns: a pool on DATABASE_URL, else PGlite in memory. */
export async function openConnection(): Promise<{ connection: pg.Pool | PGlite; close(): Promise<void> }> {
  if (DATABASE_URL !== undefined) {
    const pool = new pg.Pool({ connectionString: DATABASE_URL })
    pool.on('error', () => undefined)
    return { connection: pool, close: () => pool.end() }
  }
  const db = await PGlite.create()
  return { connection: db, close: () => db.close() }
}

export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex')
}

/** `x-user` / `x-role` headers make the actor (tests only). */
export function actorFromHeaders(request: FastifyRequest): Actor | null {
  const id = request.headers['x-user']
  if (typeof id !== 'string') return null
  const role = request.headers['x-role']
  return typeof role === 'string' ? { id, role } : { id }
}

export const opsAdmin = { 'x-user': 'ops-1', 'x-role': 'ops' }
export const isOps = (request: FastifyRequest): boolean => request.actor?.role === 'ops'

export interface LogLines extends Writable {
  lines: Record<string, unknown>[]
}

export function captureLogs(): LogLines {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line))
      done()
    },
  }) as LogLines
  stream.lines = lines
  return stream
}

export interface FullAppOptions {
  connection: pg.Pool | PGlite
  console?: OpskitConsoleOptions
  logs?: Writable
  /** Register these plugins (default all). */
  parts?: { health?: boolean; metrics?: boolean; rateLimit?: boolean; audit?: boolean; securityLog?: boolean }
}

/**
 * An app with every plugin the console reads, each storing into its own tables, plus a few routes:
 * `GET /hello`, `GET /slow` (waits `?ms`), `GET /boom` (500), `POST /bookings` (audited),
 * `GET /limited` (2 a minute), `GET /gauge-app` registers a business gauge.
 */
export async function buildFullApp(opts: FullAppOptions): Promise<FastifyInstance> {
  const parts = { health: true, metrics: true, rateLimit: true, audit: true, securityLog: true, ...opts.parts }
  const suffix = uniqueSuffix()
  const app = Fastify({ genReqId: requestIdGenerator(), logger: opts.logs === undefined ? false : { level: 'info', stream: opts.logs } })
  await app.register(opskitCore, { resolveActor: actorFromHeaders })
  if (parts.metrics) await app.register(opskitMetrics, { defaultMetrics: false })
  if (parts.health) await app.register(opskitHealth, { checks: { db: async () => ({ ok: true }), cache: { check: async () => { throw new Error('cache is down') }, critical: false } } })
  if (parts.securityLog) await app.register(opskitSecurityLog, { connection: opts.connection, table: `security_logs_${suffix}` })
  if (parts.rateLimit) await app.register(opskitRateLimit, { max: 1000, timeWindow: 60_000 })
  if (parts.audit) await app.register(opskitAudit, { connection: opts.connection, table: `audit_logs_${suffix}` })
  await app.register(opskitConsole, { authorize: isOps, ...opts.console })

  app.get('/hello', async () => ({ hello: 'world' }))
  app.get<{ Querystring: { ms?: string } }>('/slow', async (request) => {
    await new Promise((resolve) => setTimeout(resolve, Number(request.query.ms ?? 50)))
    return { slow: true }
  })
  app.get('/boom', async () => {
    throw new Error('boom')
  })
  app.get('/limited', { config: { rateLimit: { max: 2, timeWindow: 60_000 } } as never }, async () => ({ ok: true }))
  if (parts.audit) {
    app.post<{ Body: { guest: string } }>('/bookings', async (request) => {
      const id = uniqueSuffix()
      await request.audit({ action: 'create', entityType: 'booking', entityId: id, after: { guest: request.body.guest } })
      return { id }
    })
  }
  if (parts.metrics) {
    const pending = { value: 7 }
    app.metrics.gauge({ name: 'bookings_pending', help: 'Bookings waiting for confirmation', collect() { this.set(pending.value) } })
  }
  await app.ready()
  return app
}
