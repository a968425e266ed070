import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { opskitCore } from '@opskit/core'
import { opskitHealth } from '@opskit/health'
import type { OpskitHealthOptions, Queryable } from '@opskit/health'

export async function buildApp(options: OpskitHealthOptions = {}, serverOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(serverOptions)
  await app.register(opskitCore)
  await app.register(opskitHealth, options)
  return app
}

/** A real PostgreSQL: DATABASE_URL when set, else an in-memory PGlite. */
export async function openDatabase(): Promise<{ db: Queryable; close: () => Promise<void>; kind: string }> {
  if (process.env.DATABASE_URL) {
    const { default: pg } = await import('pg')
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 })
    return { db: pool, close: () => pool.end(), kind: 'postgres' }
  }
  const { PGlite } = await import('@electric-sql/pglite')
  const db = new PGlite()
  return { db, close: () => db.close(), kind: 'pglite' }
}

/** A local HTTP server standing in for a remote dependency. */
export async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A port on which nothing listens (fetch refuses the well-known "bad" ports such as 1). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
