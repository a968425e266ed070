import { tmpdir } from 'node:os'
import { afterEach, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { Redis } from 'ioredis'
import { CheckFailedError, diskCheck, eventLoopCheck, httpCheck, memoryCheck, postgresCheck, redisCheck } from '@opskit/health'
import { buildApp, closedPort, openDatabase, startServer } from './helpers.js'

let app: FastifyInstance | undefined
const cleanups: Array<() => Promise<unknown> | void> = []
afterEach(async () => {
  await app?.close()
  app = undefined
  while (cleanups.length > 0) await cleanups.pop()?.()
})

if (!process.env.REDIS_URL) console.warn('[@opskit/health] REDIS_URL not set: skipped "redisCheck passes against the real Redis" (the closed-port case still runs)')

async function ready(instance: FastifyInstance): Promise<{ statusCode: number; body: any }> {
  const res = await instance.inject('/health/ready')
  return { statusCode: res.statusCode, body: res.json() }
}

describe('postgresCheck', () => {
  it(`passes against the real database (${process.env.DATABASE_URL ? 'DATABASE_URL' : 'PGlite'})`, async () => {
    const { db, close, kind } = await openDatabase()
    cleanups.push(close)
    app = await buildApp({ checks: { db: postgresCheck(db) } })
    const { statusCode, body } = await ready(app)
    expect(statusCode).toBe(200)
    expect(body.services.db).toMatchObject({ status: 'ok', latency_ms: expect.any(Number) })
    if (kind === 'postgres') expect(body.services.db.pool).toEqual({ total: expect.any(Number), idle: expect.any(Number), waiting: 0 })
  })

  it('fails with 503 against a closed port, without the password in the error', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://app:hunter2@127.0.0.1:1/prod', connectionTimeoutMillis: 1000 })
    pool.on('error', () => undefined)
    cleanups.push(() => pool.end())
    app = await buildApp({ checks: { db: postgresCheck(pool) } })
    const { statusCode, body } = await ready(app)
    expect(statusCode).toBe(503)
    expect(body.status).toBe('error')
    expect(body.services.db).toEqual({ status: 'error', latency_ms: expect.any(Number), error: expect.stringContaining('ECONNREFUSED') })
    expect(JSON.stringify(body)).not.toContain('hunter2')
  })

  it('rejects something that cannot query', () => {
    expect(() => postgresCheck({} as never)).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_HEALTH_INVALID_OPTION', message: expect.stringMatching(/"postgresCheck\(poolOrClient\)".*query/) }))
  })
})

describe('redisCheck', () => {
  it.skipIf(!process.env.REDIS_URL)('passes against the real Redis', async () => {
    const redis = new Redis(process.env.REDIS_URL as string)
    cleanups.push(() => redis.quit())
    app = await buildApp({ checks: { cache: redisCheck(redis) } })
    const { statusCode, body } = await ready(app)
    expect(statusCode).toBe(200)
    expect(body.services.cache).toEqual({ status: 'ok', latency_ms: expect.any(Number) })
  })

  it('fails fast against a closed port instead of waiting in the offline queue', async () => {
    const redis = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 1, retryStrategy: () => 200 })
    redis.on('error', () => undefined)
    cleanups.push(() => redis.disconnect())
    await new Promise((resolve) => setTimeout(resolve, 100))
    app = await buildApp({ timeoutMs: 1500, checks: { cache: redisCheck(redis) } })
    const { statusCode, body } = await ready(app)
    expect(statusCode).toBe(503)
    expect(body.services.cache.status).toBe('error')
    expect(body.services.cache.error).not.toBe('timeout')
    expect(body.services.cache.latency_ms).toBeLessThan(1000)
  })
})

describe('httpCheck', () => {
  it('passes on 2xx, fails on another status, and honours expectStatus', async () => {
    const upstream = await startServer((req, res) => {
      res.statusCode = req.url === '/ok' ? 200 : req.url === '/teapot' ? 418 : 500
      res.end('body')
    })
    cleanups.push(upstream.close)
    app = await buildApp({
      checks: {
        ok: httpCheck(`${upstream.url}/ok`),
        broken: { ...httpCheck(`${upstream.url}/broken?api_key=abc123`), critical: false },
        teapot: httpCheck(`${upstream.url}/teapot`, { expectStatus: 418 }),
      },
    })
    const { statusCode, body } = await ready(app)
    expect(statusCode).toBe(200)
    expect(body.status).toBe('degraded')
    expect(body.services.ok).toEqual({ status: 'ok', latency_ms: expect.any(Number), status_code: 200 })
    expect(body.services.teapot).toMatchObject({ status: 'ok', status_code: 418 })
    expect(body.services.broken).toMatchObject({ status: 'error', error: `GET ${upstream.url}/broken answered 500` })
    expect(JSON.stringify(body)).not.toContain('abc123')
  })

  it('fails against a closed port and times out (aborting the request) against a server that never answers', async () => {
    const hanging = await startServer(() => undefined)
    cleanups.push(hanging.close)
    app = await buildApp({ checks: { closed: httpCheck(`http://127.0.0.1:${await closedPort()}/`), hanging: httpCheck(hanging.url, { timeoutMs: 200 }) } })
    const { statusCode, body } = await ready(app)
    expect(statusCode).toBe(503)
    expect(body.services.closed).toMatchObject({ status: 'error', error: expect.stringContaining('ECONNREFUSED') })
    expect(body.services.hanging).toMatchObject({ status: 'error', error: 'timeout' })
  })

  it('rejects a URL that is not http(s)', () => {
    expect(() => httpCheck('ftp://example.com')).toThrow(/httpCheck/)
    expect(() => httpCheck('not a url')).toThrow(/httpCheck/)
  })
})

describe('diskCheck', () => {
  it('reports used_percent; over warnPercent it stays ok with a warning; over criticalPercent it fails', async () => {
    app = await buildApp({
      checks: {
        disk: diskCheck(tmpdir()),
        warn: diskCheck(tmpdir(), { warnPercent: 0.001, criticalPercent: 100 }),
        full: { ...diskCheck(tmpdir(), { warnPercent: 0.001, criticalPercent: 0.001 }), critical: false },
      },
    })
    const { statusCode, body } = await ready(app)
    expect(statusCode).toBe(200)
    expect(body.services.disk).toEqual({ status: 'ok', latency_ms: expect.any(Number), path: tmpdir(), used_percent: expect.any(Number), free_bytes: expect.any(Number) })
    expect(body.services.disk.used_percent).toBeGreaterThan(0)
    expect(body.services.disk.used_percent).toBeLessThanOrEqual(100)
    expect(body.services.warn).toMatchObject({ status: 'ok', warning: expect.stringContaining('warning at 0.001%') })
    expect(body.services.full).toMatchObject({ status: 'error', used_percent: expect.any(Number), error: expect.stringContaining('critical at 0.001%') })
  })

  it('fails for a path that does not exist, and rejects bad thresholds', async () => {
    app = await buildApp({ checks: { disk: diskCheck('/definitely/not/here') } })
    expect((await ready(app)).body.services.disk).toMatchObject({ status: 'error', error: expect.stringContaining('ENOENT') })
    expect(() => diskCheck('/', { warnPercent: 90, criticalPercent: 80 })).toThrow(/criticalPercent/)
    expect(() => diskCheck('/', { warnPercent: 0 })).toThrow(/warnPercent/)
  })
})

describe('eventLoopCheck', () => {
  it('passes on an idle loop and fails after the loop was blocked', async () => {
    app = await buildApp({ cacheMs: 0, checks: { loop: eventLoopCheck({ maxDelayMs: 100, resolutionMs: 10 }) } })
    // The monitor started with the check, while the app was still loading: a first run resets it.
    await ready(app)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const idle = await ready(app)
    expect(idle.body.services.loop).toMatchObject({ status: 'ok', delay_p99_ms: expect.any(Number), delay_max_ms: expect.any(Number) })
    await new Promise((resolve) => setTimeout(resolve, 30))
    const until = Date.now() + 500
    while (Date.now() < until) {
      // block the event loop
    }
    await new Promise((resolve) => setTimeout(resolve, 30))
    const blocked = await ready(app)
    expect(blocked.statusCode).toBe(503)
    expect(blocked.body.services.loop.error).toMatch(/event loop delay p99 \d+(\.\d+)? ms exceeds 100 ms/)
  })

  it('stops its monitor when Fastify closes', async () => {
    const check = eventLoopCheck({ maxDelayMs: 100 })
    let closed = 0
    const close = check.close?.bind(check)
    check.close = () => {
      closed++
      close?.()
    }
    const instance = await buildApp({ checks: { loop: check } })
    await instance.ready()
    await instance.close()
    expect(closed).toBe(1)
  })

  it('requires maxDelayMs', () => {
    expect(() => eventLoopCheck({} as never)).toThrow(/maxDelayMs/)
  })
})

describe('memoryCheck', () => {
  it('reports rss and heap, and fails over a limit', async () => {
    app = await buildApp({ checks: { mem: memoryCheck(), tight: { ...memoryCheck({ maxRssBytes: 1024 }), critical: false } } })
    const { statusCode, body } = await ready(app)
    expect(statusCode).toBe(200)
    expect(body.services.mem).toEqual({ status: 'ok', latency_ms: expect.any(Number), rss_bytes: expect.any(Number), heap_used_bytes: expect.any(Number) })
    expect(body.services.tight).toMatchObject({ status: 'error', error: expect.stringMatching(/^rss \d+ bytes exceeds 1024$/) })
    expect(() => memoryCheck({ maxHeapUsedBytes: -1 })).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_HEALTH_INVALID_OPTION', message: expect.stringContaining('"maxHeapUsedBytes"') }))
  })

  it('called directly, a failing built-in check rejects with FST_OPSKIT_HEALTH_CHECK_FAILED (a CheckFailedError)', async () => {
    const failure = await memoryCheck({ maxRssBytes: 1024 })
      .check(new AbortController().signal)
      .then(() => null, (e: unknown) => e)
    expect(failure).toBeInstanceOf(CheckFailedError)
    expect(failure).toMatchObject({ code: 'FST_OPSKIT_HEALTH_CHECK_FAILED', statusCode: 503, message: expect.stringMatching(/^rss \d+ bytes exceeds 1024$/) })
  })
})
