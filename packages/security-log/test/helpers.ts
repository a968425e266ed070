import { randomBytes } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import pg from 'pg'
import { opskitCore, requestIdGenerator } from '@opskit/core'
import type { Actor } from '@opskit/core'
import { opskitSecurityLog } from '@opskit/security-log'
import type { SecurityLogOptions } from '@opskit/security-log'
import type { LogCapture } from '../../../test-utils/alert-logs.js'

// The HTTP receiver and the log capture are shared with alerts' tests.
export { closedPort, startReceiver } from '../../../test-utils/http-receiver.js'
export type { ReceivedRequest, Receiver } from '../../../test-utils/http-receiver.js'
export { captureLogs } from '../../../test-utils/alert-logs.js'
export type { LogCapture } from '../../../test-utils/alert-logs.js'

export const DATABASE_URL = process.env.DATABASE_URL
export const REDIS_URL = process.env.REDIS_URL

/** What this run stores in: real PostgreSQL when DATABASE_URL is set, else PGlite in memory. */
export const STORE = DATABASE_URL === undefined ? 'PGlite' : 'PostgreSQL'

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`
}

/** A connection string when DATABASE_URL is set (the plugin opens and ends its own pool), else undefined (PGlite). */
export function connection(): string | undefined {
  return DATABASE_URL
}

/** Drops tables created on the real PostgreSQL (PGlite in memory disappears by itself). */
export async function dropTables(tables: string[]): Promise<void> {
  if (DATABASE_URL === undefined || tables.length === 0) return
  const pool = new pg.Pool({ connectionString: DATABASE_URL })
  try {
    for (const table of tables) await pool.query(`DROP TABLE IF EXISTS "${table}"`)
  } finally {
    await pool.end()
  }
}

export async function cleanRedis(prefix: string): Promise<void> {
  if (REDIS_URL === undefined) return
  const redis = new Redis(REDIS_URL)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

export interface BuildOptions {
  logs?: LogCapture
  actor?: (headers: IncomingHttpHeaders) => Actor | null
  setup?: (app: FastifyInstance) => void | Promise<void>
}

/** Fastify with core (actor from `x-user` / `x-role` headers by default) and the security log. */
export async function buildApp(options: SecurityLogOptions, build: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: build.logs === undefined ? false : { level: 'info', stream: build.logs.stream },
    trustProxy: true,
    genReqId: requestIdGenerator(),
  })
  await app.register(opskitCore, {
    resolveActor: (request) => {
      if (build.actor !== undefined) return build.actor(request.headers)
      const id = request.headers['x-user']
      if (typeof id !== 'string') return null
      const role = request.headers['x-role']
      return { id, role: typeof role === 'string' ? role : undefined, email: `${id}@example.com` }
    },
  })
  if (build.setup !== undefined) await build.setup(app)
  await app.register(opskitSecurityLog, { connection: connection(), ...options })
  return app
}
