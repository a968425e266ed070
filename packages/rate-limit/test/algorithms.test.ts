import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { opskitCore } from '@opskit/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { REDIS_URL, redisKeyspace } from '../../../test-utils/env-redis.js'
import { opskitRateLimit, type OpskitRateLimitOptions } from '@opskit/rate-limit'

if (!REDIS_URL) console.warn('[@opskit/rate-limit] REDIS_URL is not set: skipping the memory-vs-Redis agreement tests of the fixed and sliding windows')

const apps: FastifyInstance[] = []
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(apps.splice(0).map((a) => a.close()))
})

/** Windows are aligned on the epoch for the sliding counter: a time on a 10 s boundary. */
const T0 = 2_000_000_000_000

async function build(options: OpskitRateLimitOptions) {
  const app = Fastify()
  await app.register(opskitCore)
  await app.register(opskitRateLimit, { headers: 'both', ...options })
  app.get('/items', async () => ({ ok: true }))
  app.get('/multi', {
    config: { rateLimit: [{ name: 'burst', max: 3, timeWindow: 2000 }, { name: 'long', max: 8, timeWindow: 10_000 }] },
  }, async () => ({ ok: true }))
  apps.push(app)
  return app
}

async function burst(app: FastifyInstance, n: number, url = '/items', ip = '10.0.0.1'): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < n; i++) statuses.push((await app.inject({ url, remoteAddress: ip })).statusCode)
  return statuses
}

const times = (n: number, status: number) => Array.from({ length: n }, () => status)

describe('fixed and sliding windows at a window boundary (memory store, controlled clock)', () => {
  it('fixed lets a client send twice the limit across the boundary; sliding does not, and t says when it may retry', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0)
    const fixed = await build({ algorithm: 'fixed', max: 10, timeWindow: 10_000 })
    const sliding = await build({ algorithm: 'sliding', max: 10, timeWindow: 10_000 })

    // one request opens the window, nine more just before it ends: the limit, in both
    expect(await burst(fixed, 1)).toEqual([200])
    expect(await burst(sliding, 1)).toEqual([200])
    vi.setSystemTime(T0 + 9_900)
    expect(await burst(fixed, 9)).toEqual(times(9, 200))
    expect(await burst(sliding, 9)).toEqual(times(9, 200))

    // 100 ms later the next window starts
    vi.setSystemTime(T0 + 10_000)
    expect(await burst(fixed, 10)).toEqual(times(10, 200)) // 20 requests in 100 ms
    expect(await burst(sliding, 10)).toEqual(times(10, 429)) // the previous window still weighs 10

    // sliding: the previous window's 10 weigh 10 × (1 - e/w); one more fits when that is 9: at e = 1 s
    const rejected = await sliding.inject({ url: '/items', remoteAddress: '10.0.0.1' })
    expect(rejected.headers.ratelimit).toBe('"default";r=0;t=1')
    expect(rejected.headers['retry-after']).toBe('1')
    vi.setSystemTime(T0 + 10_999)
    expect(await burst(sliding, 1)).toEqual([429])
    vi.setSystemTime(T0 + 11_000)
    expect(await burst(sliding, 2)).toEqual([200, 429])
  })

  it('sliding: a client that used the whole limit in this window may retry when one request of it has faded in the next', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0 + 2_000)
    const sliding = await build({ algorithm: 'sliding', max: 10, timeWindow: 10_000 })
    expect(await burst(sliding, 10)).toEqual(times(10, 200))
    const rejected = await sliding.inject({ url: '/items', remoteAddress: '10.0.0.1' })
    expect(rejected.statusCode).toBe(429)
    // 8 s until the window ends, then the 10 fade by one per second
    expect(rejected.headers['retry-after']).toBe('9')
    expect(rejected.headers.ratelimit).toBe('"default";r=0;t=9')
    vi.setSystemTime(T0 + 10_999)
    expect(await burst(sliding, 1)).toEqual([429])
    vi.setSystemTime(T0 + 11_000)
    expect(await burst(sliding, 2)).toEqual([200, 429])
  })

  it("sliding: t of an allowed request is when its quota unit comes back (the window it was counted in, plus the next, for the last unit)", async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T0 + 4_000)
    const sliding = await build({ algorithm: 'sliding', max: 10, timeWindow: 10_000 })
    const res = await sliding.inject({ url: '/items', remoteAddress: '10.0.0.1' })
    // one request counted 4 s into its window: it weighs fully until the window ends (6 s), then
    // fades over the next window (10 s): back to the full 10 after 16 s
    expect(res.headers.ratelimit).toBe('"default";r=9;t=16')
    expect(res.headers['ratelimit-policy']).toBe('"default";q=10;w=10')
    expect(res.headers['x-ratelimit-reset']).toBe('16')
  })
})

describe.skipIf(!REDIS_URL)('memory and Redis stores decide alike (real Redis at REDIS_URL)', () => {
  const { keyPrefix } = redisKeyspace('opskit:rl:algo')

  const FIELDS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after', 'ratelimit', 'ratelimit-policy'] as const
  function answer(res: { statusCode: number; headers: Record<string, unknown> }) {
    return { status: res.statusCode, ...Object.fromEntries(FIELDS.map((f) => [f, res.headers[f]])) }
  }

  it('sliding: the same 400 requests at the same (controlled) times get the same status and headers from both', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    let now = T0 + 1234
    vi.setSystemTime(now)
    const options: OpskitRateLimitOptions = { algorithm: 'sliding', max: 5, timeWindow: 5000 }
    const memory = await build(options)
    const redis = await build({ ...options, redis: REDIS_URL!, keyPrefix: `${keyPrefix}sliding:` })
    let seed = 42
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const statuses = new Map<number, number>()
    for (let i = 0; i < 400; i++) {
      now += Math.floor(random() * 1200)
      vi.setSystemTime(now)
      const request = { url: random() < 0.5 ? '/items' : '/multi', remoteAddress: random() < 0.7 ? '10.3.0.1' : '10.3.0.2' }
      const fromMemory = answer(await memory.inject(request))
      const fromRedis = answer(await redis.inject(request))
      expect(fromRedis, `request ${i} at ${now - T0} ms: ${request.url} from ${request.remoteAddress}`).toEqual(fromMemory)
      statuses.set(fromMemory.status, (statuses.get(fromMemory.status) ?? 0) + 1)
    }
    // the sequence exercised both answers (and so the boundaries between them)
    expect(statuses.get(200)).toBeGreaterThan(30)
    expect(statuses.get(429)).toBeGreaterThan(30)
    expect([...statuses.keys()].sort()).toEqual([200, 429])
  })

  it('fixed: the same requests get the same statuses and remaining counts from both', async () => {
    const options: OpskitRateLimitOptions = { algorithm: 'fixed', max: 4, timeWindow: 60_000 }
    const memory = await build(options)
    const redis = await build({ ...options, redis: REDIS_URL!, keyPrefix: `${keyPrefix}fixed:` })
    const seen: Array<{ status: number; remaining: unknown; ratelimit: unknown }> = []
    for (let i = 0; i < 14; i++) {
      const request = { url: i % 3 === 0 ? '/items' : '/multi', remoteAddress: '10.3.1.1' }
      const a = await memory.inject(request)
      const b = await redis.inject(request)
      const pick = (res: typeof a) => ({
        status: res.statusCode,
        remaining: res.headers['x-ratelimit-remaining'],
        // r of each policy (t may differ by the ms the two clocks round across)
        ratelimit: String(res.headers.ratelimit).replace(/;t=\d+/g, ''),
      })
      expect(pick(b), `request ${i}`).toEqual(pick(a))
      seen.push(pick(a))
    }
    expect(seen.filter((s) => s.status === 429).length).toBeGreaterThan(3)
    expect(seen.filter((s) => s.status === 200).length).toBeGreaterThan(3)
  })

  it('shadow with the Redis store: nothing rejected, the would-be rejections counted as shadow', async () => {
    const { opskitMetrics } = await import('@opskit/metrics')
    const app = Fastify()
    await app.register(opskitCore)
    await app.register(opskitMetrics, { defaultMetrics: false })
    await app.register(opskitRateLimit, { shadow: true, algorithm: 'sliding', max: 2, redis: REDIS_URL!, keyPrefix: `${keyPrefix}shadow:` })
    app.get('/items', async () => ({ ok: true }))
    apps.push(app)
    expect(await burst(app, 5)).toEqual(times(5, 200))
    const metrics = (await app.inject('/metrics')).body
    expect(metrics).toContain('rate_limit_shadow_rejections_total{route="/items"} 3')
    expect(metrics).not.toMatch(/^rate_limit_rejections_total\{/m)
  })

  it('switching algorithm on the same Redis and keyPrefix never meets a key of the other kind', async () => {
    const prefix = `${keyPrefix}switch:`
    const fixed = await build({ algorithm: 'fixed', max: 3, redis: REDIS_URL!, keyPrefix: prefix, failOpen: false })
    expect(await burst(fixed, 2)).toEqual([200, 200])
    const sliding = await build({ algorithm: 'sliding', max: 3, redis: REDIS_URL!, keyPrefix: prefix, failOpen: false })
    // failOpen false: a WRONGTYPE error would be a 503
    expect(await burst(sliding, 4)).toEqual([200, 200, 200, 429])
    expect(await burst(fixed, 2)).toEqual([200, 429])
  })

  it('sliding: one round trip (one EVALSHA) per request, for a route with two policies too', async () => {
    const client = new Redis(REDIS_URL!)
    const sent: string[] = []
    const sendCommand = client.sendCommand.bind(client)
    client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      sent.push(command.name)
      return (sendCommand as (...args: unknown[]) => unknown)(command, ...rest)
    }) as typeof client.sendCommand
    try {
      const app = await build({ algorithm: 'sliding', max: 1000, redis: client, keyPrefix: `${keyPrefix}trips:` })
      await app.inject({ url: '/items', remoteAddress: '10.3.2.1' }) // loads the script (EVALSHA, NOSCRIPT, EVAL)
      await app.inject({ url: '/multi', remoteAddress: '10.3.2.1' })
      sent.length = 0
      for (let i = 0; i < 20; i++) {
        const res = await app.inject({ url: i % 2 === 0 ? '/items' : '/multi', remoteAddress: `10.3.2.${i}` })
        expect(res.statusCode).toBe(200)
      }
      expect(sent).toEqual(times(20, 0).map(() => 'evalsha'))
    } finally {
      client.disconnect()
    }
  })
})
