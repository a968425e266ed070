import { afterEach, describe, expect, it, vi } from 'vitest'
import type { FastifyInstance } from 'fastify'
import Fastify from 'fastify'
import { opskitCore } from '@opskit/core'
import { FST_HEALTH_INVALID_OPTION, opskitHealth } from '@opskit/health'
import { opskitMetrics } from '@opskit/metrics'
import { routesAddedBy } from '../../../test-utils/server-routes.js'
import { buildApp, sleep } from './helpers.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  vi.useRealTimers()
  await app?.close()
  app = undefined
})

/** `promise`, or a failure when it has not settled by the next turn of the event loop (the fake clock has already been advanced). */
async function settledWithin<T>(promise: Promise<T>): Promise<T> {
  const unsettled = Symbol('unsettled')
  const result = await Promise.race([promise, new Promise<typeof unsettled>((resolve) => setImmediate(() => resolve(unsettled)))])
  if (result === unsettled) throw new Error('still pending after the fake clock was advanced')
  return result
}

const failing = () => Promise.reject(new Error('connection refused'))

describe('liveness', () => {
  it('answers /health and /health/live with status, version and uptime, never running a check', async () => {
    let calls = 0
    app = await buildApp({ version: '1.2.3', checks: { db: async () => void calls++ } })
    for (const url of ['/health', '/health/live']) {
      const res = await app.inject(url)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toMatch(/^application\/json/)
      const body = res.json()
      expect(body).toEqual({ status: 'ok', version: '1.2.3', uptime_s: expect.any(Number) })
    }
    expect(calls).toBe(0)
  })

  it('reports APP_VERSION by default', async () => {
    const saved = process.env.APP_VERSION
    process.env.APP_VERSION = '9.9.9'
    try {
      app = await buildApp()
      expect((await app.inject('/health')).json().version).toBe('9.9.9')
    } finally {
      if (saved === undefined) delete process.env.APP_VERSION
      else process.env.APP_VERSION = saved
    }
  })
})

describe('readiness', () => {
  it('is ok when every check passes, with latency per service and the fields a check returns', async () => {
    app = await buildApp({ checks: { db: async () => undefined, disk: async () => ({ used_percent: 42 }) } })
    const res = await app.inject('/health/ready')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      status: 'ok',
      services: { db: { status: 'ok', latency_ms: expect.any(Number) }, disk: { status: 'ok', latency_ms: expect.any(Number), used_percent: 42 } },
    })
  })

  it('answers 503 "error" when a critical check fails, naming the failure', async () => {
    app = await buildApp({ checks: { db: failing, cache: async () => undefined } })
    const res = await app.inject('/health/ready')
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({
      status: 'error',
      services: { db: { status: 'error', latency_ms: expect.any(Number), error: 'connection refused' }, cache: { status: 'ok', latency_ms: expect.any(Number) } },
    })
  })

  it('answers 200 "degraded" when only a non-critical check fails', async () => {
    app = await buildApp({ checks: { db: async () => undefined, search: { check: failing, critical: false } } })
    const res = await app.inject('/health/ready')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ status: 'degraded', services: { search: { status: 'error', error: 'connection refused' } } })
  })

  it('fails a check that exceeds its timeout with "timeout", without waiting for it', async () => {
    app = await buildApp({ timeoutMs: 5000, checks: { slow: { check: () => new Promise(() => undefined), timeoutMs: 100 }, fast: async () => undefined } })
    await app.ready()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    const pending = app.inject('/health/ready')
    // The check's own 100 ms, not the plugin's 5000 ms: the answer is there after 100 ms of (fake) time.
    await vi.advanceTimersByTimeAsync(100)
    const res = await settledWithin(pending)
    expect(res.statusCode).toBe(503)
    expect(res.json().services.slow).toEqual({ status: 'error', latency_ms: 100, error: 'timeout' })
  })

  it('aborts the signal a check receives when its timeout passes', async () => {
    let reason: unknown
    app = await buildApp({
      timeoutMs: 50,
      checks: { upstream: (signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => ((reason = signal.reason), reject(signal.reason)))) },
    })
    expect((await app.inject('/health/ready')).json().services.upstream.error).toBe('timeout')
    expect(reason).toMatchObject({ code: 'FST_OPSKIT_HEALTH_CHECK_TIMEOUT', message: 'timeout' })
  })

  it('runs checks concurrently', async () => {
    const slow = () => sleep(300)
    app = await buildApp({ cacheMs: 0, checks: { a: slow, b: slow, c: slow, d: slow } })
    await app.ready()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    const pending = app.inject('/health/ready')
    // Four checks of 300 ms each: one after another they would need 1200 ms.
    await vi.advanceTimersByTimeAsync(300)
    const res = await settledWithin(pending)
    expect(res.statusCode).toBe(200)
    expect(Object.values(res.json().services).map((service) => (service as { latency_ms: number }).latency_ms)).toEqual([300, 300, 300, 300])
  })

  it('turns a probe storm into one run per check, and reuses the result for cacheMs', async () => {
    let calls = 0
    app = await buildApp({ cacheMs: 200, checks: { db: async () => { calls++; await sleep(50) } } })
    await app.ready()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    const storm = Promise.all(Array.from({ length: 200 }, () => app!.inject('/health/ready')))
    await vi.advanceTimersByTimeAsync(50)
    expect((await settledWithin(storm)).every((res) => res.statusCode === 200)).toBe(true)
    expect(calls).toBe(1)
    // 199 ms after the run ended: still cached; at 200 ms it runs again.
    await vi.advanceTimersByTimeAsync(199)
    expect((await app.inject('/health/db')).statusCode).toBe(200)
    expect(calls).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    const next = app.inject('/health/ready')
    await vi.advanceTimersByTimeAsync(50)
    await settledWithin(next)
    expect(calls).toBe(2)
  })

  it('shares one in-flight run between concurrent callers even with cacheMs: 0', async () => {
    let calls = 0
    app = await buildApp({ cacheMs: 0, checks: { db: async () => { calls++; await sleep(50) } } })
    await app.ready()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    const concurrent = Promise.all(Array.from({ length: 50 }, () => app!.inject('/health/ready')))
    await vi.advanceTimersByTimeAsync(50)
    await settledWithin(concurrent)
    expect(calls).toBe(1)
    const next = app.inject('/health/ready')
    await vi.advanceTimersByTimeAsync(50)
    await settledWithin(next)
    expect(calls).toBe(2)
  })

  it('never sends a second call to a dependency that still has not answered the one that timed out', async () => {
    let calls = 0
    let answer!: () => void
    // Like a query on a hung database: it ignores the abort signal and holds a pool client.
    const hung = () => {
      calls++
      return new Promise<void>((resolve) => (answer = resolve))
    }
    app = await buildApp({ cacheMs: 0, timeoutMs: 50, checks: { db: hung } })
    await app.ready()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    const probe = async () => {
      const pending = app!.inject('/health/ready')
      await vi.advanceTimersByTimeAsync(50)
      return settledWithin(pending)
    }
    for (let i = 0; i < 5; i++) {
      const res = await probe()
      expect(res.statusCode).toBe(503)
      expect(res.json().services.db.error).toBe('timeout')
    }
    expect(calls).toBe(1)
    answer()
    // Once the hung call has answered (promise callbacks, no time), the next probe sends a new one.
    await vi.advanceTimersByTimeAsync(0)
    expect((await probe()).statusCode).toBe(503)
    expect(calls).toBe(2)
  })

  it('never shows a password from a connection string in an error', async () => {
    app = await buildApp({
      checks: {
        db: async () => {
          throw new Error('could not connect to postgres://app:hunter2@db.internal:5432/prod?password=hunter2 as ops@example.com')
        },
      },
    })
    const { error } = (await app.inject('/health/ready')).json().services.db
    expect(error).not.toContain('hunter2')
    expect(error).toContain('postgres://app:[REDACTED]@db.internal:5432/prod')
    expect(error).not.toContain('ops@example.com')
  })
})

describe('per-check endpoints', () => {
  it('answers GET /health/<name> with that check alone; 503 when it fails; 404 for an unknown name', async () => {
    app = await buildApp({ checks: { db: async () => ({ pool: { idle: 1 } }), search: { check: failing, critical: false } } })
    const ok = await app.inject('/health/db')
    expect(ok.statusCode).toBe(200)
    expect(ok.json()).toEqual({ status: 'ok', latency_ms: expect.any(Number), pool: { idle: 1 } })
    const bad = await app.inject('/health/search')
    expect(bad.statusCode).toBe(503)
    expect(bad.json()).toEqual({ status: 'error', latency_ms: expect.any(Number), error: 'connection refused' })
    const unknown = await app.inject('/health/nope')
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json()).toMatchObject({ statusCode: 404, error: 'Not Found' })
  })

  it('serves every endpoint under the prefix option', async () => {
    app = await buildApp({ prefix: '/_status', checks: { db: async () => undefined } })
    expect((await app.inject('/_status')).statusCode).toBe(200)
    expect((await app.inject('/_status/live')).statusCode).toBe(200)
    expect((await app.inject('/_status/ready')).statusCode).toBe(200)
    expect((await app.inject('/_status/db')).statusCode).toBe(200)
    expect((await app.inject('/health')).statusCode).toBe(404)
  })

  it('exempts every health route from rate limiting (config.rateLimit = false)', async () => {
    const added = await routesAddedBy(async (f) => {
      await f.register(opskitCore)
      await f.register(opskitHealth)
    })
    app = added.app
    const routes = added.routes
    const health = routes.filter((route) => route.url.startsWith('/health'))
    expect(health.map((route) => route.url).sort()).toEqual(['/health', '/health', '/health/:name', '/health/:name', '/health/live', '/health/live', '/health/ready', '/health/ready'])
    for (const route of health) expect(route.config).toMatchObject({ rateLimit: false })
  })
})

describe('response schemas', () => {
  it('declares a response schema on every health route, and a body keeps every field a check adds', async () => {
    app = Fastify()
    const schemas = new Map<string, unknown>()
    app.addHook('onRoute', (route) => {
      if (route.method === 'GET') schemas.set(route.url, route.schema?.response)
    })
    await app.register(opskitCore)
    await app.register(opskitHealth, { version: '1.0.0', checks: { disk: async () => ({ used_percent: 42, mount: '/' }), search: { check: failing, critical: false } } })
    for (const url of ['/health', '/health/live', '/health/ready', '/health/:name']) expect(schemas.get(url)).toMatchObject({ 200: { type: 'object' } })
    const ready = (await app.inject('/health/ready')).json()
    expect(ready).toEqual({
      status: 'degraded',
      services: {
        disk: { status: 'ok', latency_ms: expect.any(Number), used_percent: 42, mount: '/' },
        search: { status: 'error', latency_ms: expect.any(Number), error: 'connection refused' },
      },
    })
    expect((await app.inject('/health/disk')).json()).toEqual({ status: 'ok', latency_ms: expect.any(Number), used_percent: 42, mount: '/' })
    expect((await app.inject('/health/nope')).json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'No health check named "nope"', request_id: expect.any(String) })
  })
})

describe('fastify.health', () => {
  it('registers checks after start and runs them', async () => {
    app = await buildApp()
    await app.ready()
    expect(await app.health.run()).toEqual({ status: 'ok', services: {} })
    app.health.register('queue', async () => ({ depth: 3 }))
    expect(await app.health.run()).toEqual({ status: 'ok', services: { queue: { status: 'ok', latency_ms: expect.any(Number), depth: 3 } } })
    expect((await app.inject('/health/queue')).json()).toMatchObject({ depth: 3 })
    const invalid = (message: RegExp) => expect.objectContaining({ code: 'FST_OPSKIT_HEALTH_INVALID_OPTION', message: expect.stringMatching(message) })
    expect(() => app!.health.register('queue', async () => undefined)).toThrow(invalid(/"checks\.queue".*already registered/))
    expect(() => app!.health.register('ready', async () => undefined)).toThrow(invalid(/reserved/))
    expect(() => app!.health.register('a/b', async () => undefined)).toThrow(invalid(/"checks\.a\/b"/))
  })
})

describe('metrics', () => {
  it('publishes health_check_status and health_check_duration_seconds when @opskit/metrics is registered', async () => {
    app = Fastify()
    await app.register(opskitCore)
    await app.register(opskitHealth, { checks: { db: async () => undefined, search: { check: failing, critical: false } } })
    await app.register(opskitMetrics, { defaultMetrics: false })
    const text = (await app.inject('/metrics')).body
    expect(text).toContain('health_check_status{check="db"} 1')
    expect(text).toContain('health_check_status{check="search"} 0')
    expect(text).toMatch(/health_check_duration_seconds\{check="db"\} \d/)
  })

  it('turns a scrape storm into one run per check per cacheMs, shared with the probes', async () => {
    let calls = 0
    app = Fastify()
    await app.register(opskitCore)
    await app.register(opskitHealth, { cacheMs: 60_000, checks: { db: async () => { calls++; await sleep(50) } } })
    await app.register(opskitMetrics, { defaultMetrics: false })
    const storm = await Promise.all(Array.from({ length: 100 }, () => app!.inject('/metrics')))
    expect(storm.every((res) => res.body.includes('health_check_status{check="db"} 1'))).toBe(true)
    expect(calls).toBe(1)
    for (let i = 0; i < 20; i++) await app.inject('/metrics')
    expect((await app.inject('/health/ready')).statusCode).toBe(200)
    expect(calls).toBe(1)
  })

  it('works without @opskit/metrics', async () => {
    app = await buildApp({ checks: { db: async () => undefined } })
    await app.ready()
    expect(app.hasDecorator('metrics')).toBe(false)
    expect((await app.inject('/health/ready')).statusCode).toBe(200)
  })
})

describe('options', () => {
  it.each([
    [{ timeout: 100 }, 'timeout'],
    [{ prefix: 'health' }, 'prefix'],
    [{ version: '' }, 'version'],
    [{ checks: [] }, 'checks'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ cacheMs: -1 }, 'cacheMs'],
    [{ shutdownDelayMs: 'soon' }, 'shutdownDelayMs'],
    [{ checks: { live: async () => undefined } }, 'checks.live'],
    [{ checks: { db: 'SELECT 1' } }, 'checks.db'],
    [{ checks: { db: { check: async (): Promise<void> => undefined, critical: 'yes' } } }, 'checks.db.critical'],
    [{ checks: { db: { check: async (): Promise<void> => undefined, timeoutMs: -5 } } }, 'checks.db.timeoutMs'],
  ])('rejects %j at register() naming %s', async (options, name) => {
    await expect(buildApp(options as never)).rejects.toMatchObject({ code: 'FST_OPSKIT_HEALTH_INVALID_OPTION', message: expect.stringContaining(`"${name}"`) })
  })

  it('registers without @opskit/core (it reads none of core\'s decorators)', async () => {
    app = Fastify()
    await app.register(opskitHealth, { checks: { queue: async () => ({ depth: 1 }) } })
    expect((await app.inject('/health/live')).json()).toMatchObject({ status: 'ok' })
    expect((await app.inject('/health/ready')).json()).toMatchObject({ status: 'ok', services: { queue: { status: 'ok', depth: 1 } } })
  })

  it('the deprecated FST_HEALTH_INVALID_OPTION export still catches the renamed error', async () => {
    await expect(buildApp({ cacheMs: -1 })).rejects.toBeInstanceOf(FST_HEALTH_INVALID_OPTION)
  })
})
