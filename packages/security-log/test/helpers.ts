import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import pg from 'pg'
import { opskitCore, requestIdGenerator } from '@opskit/core'
import type { Actor } from '@opskit/core'
import { opskitSecurityLog } from '@opskit/security-log'
import type { SecurityLogOptions } from '@opskit/security-log'

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

export interface LogCapture {
  stream: Writable
  lines(): Array<Record<string, any>>
  text(): string
}

export function captureLogs(): LogCapture {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk))
      cb()
    },
  })
  return {
    stream,
    text: () => chunks.join(''),
    lines: () => chunks.join('').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, any>),
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

export interface ReceivedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: any
}

export interface Receiver {
  url: string
  requests: ReceivedRequest[]
  close(): Promise<void>
}

/**
 * A local HTTP server standing in for a webhook or the Telegram API. `respond` picks the status
 * (and JSON body) of each answer; the default is 200 `{"ok":true}`.
 */
export async function startReceiver(respond?: (req: ReceivedRequest, index: number) => { status: number; body?: unknown; delayMs?: number }): Promise<Receiver> {
  const requests: ReceivedRequest[] = []
  const server = createServer((req, res) => {
    let raw = ''
    req.on('data', (c) => (raw += String(c)))
    req.on('end', () => {
      let body: unknown = raw
      try {
        body = JSON.parse(raw)
      } catch {
        // keep the raw text
      }
      const received: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }
      const index = requests.push(received) - 1
      const answer = respond?.(received, index) ?? { status: 200, body: { ok: true } }
      const send = (): void => {
        res.writeHead(answer.status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(answer.body ?? { ok: answer.status < 400 }))
      }
      if (answer.delayMs !== undefined) setTimeout(send, answer.delayMs)
      else send()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/** Polls `check` until it returns true (or fails the test after `timeoutMs`). */
export async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
