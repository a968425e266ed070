import type { FastifyBaseLogger } from 'fastify'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import type { PGliteLike } from '@opskit/store'
import { Redis } from 'ioredis'
import type { OpskitConfig } from './config.js'

/** The connections the suite opens once and hands to every part that needs them. */
export interface SharedServices {
  /** One pool for audit, security-log and the `db` health check (when `DATABASE_URL` is set). */
  pool?: pg.Pool
  /** One in-memory PGlite for audit and security-log when `DATABASE_URL` is not set. */
  pglite?: PGliteLike
  /** One client for rate-limit, security-log abuse counters and the `redis` health check (when `REDIS_URL` is set). */
  redis?: Redis
  /** Ends what was opened. Called from `onClose`, after the parts have flushed. */
  close(): Promise<void>
}

export interface SharedServicesOptions {
  /** A part needs PostgreSQL: a pool when `DATABASE_URL` is set. */
  database: boolean
  /** A part stores rows and has no `DATABASE_URL`: one in-memory PGlite (with a WARN) instead. */
  embedded: boolean
  /** A part needs Redis: a client when `REDIS_URL` is set. */
  redis: boolean
  logger: FastifyBaseLogger
  /** How long to wait at start for Redis to answer before going on without it. Default 2000 ms. */
  redisReadyTimeoutMs?: number
}

/** A URL safe to log: the password (and user) are never printed. */
function describeUrl(value: string): string {
  try {
    const url = new URL(value)
    return `${url.protocol}//${url.hostname}${url.port !== '' ? `:${url.port}` : ''}${url.pathname}`
  } catch {
    return '(unparseable URL)'
  }
}

/**
 * Resolves once the client is ready, or on its first connection error, or after `timeoutMs`.
 * Redis down at start is not fatal: ioredis keeps reconnecting and readiness reports it.
 */
function waitReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true)
  return new Promise((resolve) => {
    const settle = (ready: boolean): void => {
      clearTimeout(timer)
      redis.off('ready', onReady)
      redis.off('error', onError)
      resolve(ready)
    }
    const onReady = (): void => settle(true)
    const onError = (): void => settle(false)
    const timer = setTimeout(() => settle(false), timeoutMs)
    timer.unref()
    redis.once('ready', onReady)
    redis.once('error', onError)
  })
}

/** QUIT when connected (pending replies are read first), then wait for the socket to end. */
async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return
  const ended = new Promise<void>((resolve) => redis.once('end', () => resolve()))
  if (redis.status === 'ready') {
    await redis.quit().catch(() => redis.disconnect())
  } else {
    redis.disconnect()
  }
  await ended
}

/**
 * Opens one `pg.Pool` (from `databaseUrl`) and one ioredis client (from `redisUrl`) when the config
 * has them and a part needs them. Errors on idle connections are logged, never thrown, so a
 * database or Redis restart does not crash the process.
 */
export async function openSharedServices(config: OpskitConfig, opts: SharedServicesOptions): Promise<SharedServices> {
  const { logger, redisReadyTimeoutMs = 2000 } = opts
  let pool: pg.Pool | undefined
  let pglite: PGlite | undefined
  let redis: Redis | undefined

  if (opts.database && config.databaseUrl !== undefined) {
    pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10, idleTimeoutMillis: 30_000, application_name: config.appName })
    const where = describeUrl(config.databaseUrl)
    pool.on('error', (err) => {
      logger.error({ err }, `PostgreSQL idle client error (${where})`)
    })
  }

  if (opts.embedded && config.databaseUrl === undefined) {
    pglite = new PGlite()
    await pglite.waitReady
    logger.warn('@opskit/suite: DATABASE_URL is not set, audit and security events go to embedded PGlite in memory and are lost on restart')
  }

  if (opts.redis && config.redisUrl !== undefined) {
    redis = new Redis(config.redisUrl, {
      // Fail fast while disconnected: rate-limit fails open, health reports the outage, nothing hangs.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      lazyConnect: false,
    })
    const where = describeUrl(config.redisUrl)
    let down = false
    redis.on('error', (err: Error) => {
      if (down) return
      down = true
      logger.error({ err }, `Redis connection error (${where}); retrying`)
    })
    redis.on('ready', () => {
      if (down) logger.info(`Redis connection restored (${where})`)
      down = false
    })
    await waitReady(redis, redisReadyTimeoutMs)
  }

  return {
    ...(pool !== undefined ? { pool } : {}),
    ...(pglite !== undefined ? { pglite } : {}),
    ...(redis !== undefined ? { redis } : {}),
    async close() {
      const tasks: Promise<unknown>[] = []
      if (redis !== undefined) tasks.push(closeRedis(redis))
      if (pool !== undefined) tasks.push(pool.end())
      if (pglite !== undefined) tasks.push(pglite.close())
      await Promise.all(tasks)
    },
  }
}
