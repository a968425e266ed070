import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { opskitCore } from '@opskit/core'
import { Registry } from 'prom-client'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { REDIS_URL, redisKeyspace } from '../../../test-utils/env-redis.js'
import { opskitRateLimit, type OpskitRateLimitOptions } from '@opskit/rate-limit'
import { opskitMetrics } from '@opskit/metrics'
import { ERROR, logCapture, type LogLine } from '../../../test-utils/server-log-capture.js'
import { retryIntervalMs } from '../src/redis-store.js'

if (!REDIS_URL) console.warn('[@opskit/rate-limit] REDIS_URL is not set: skipping the shared-Redis tests (two instances sharing one budget, outage logging after recovery)')

const apps: FastifyInstance[] = []
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(apps.splice(0).map((a) => a.close()))
})

async function build(options: OpskitRateLimitOptions, registry?: Registry) {
  const capture = logCapture()
  const app = Fastify({ logger: { level: 'info', stream: capture.stream } })
  await app.register(opskitCore)
  if (registry) await app.register(opskitMetrics, { registry, defaultMetrics: false, endpoint: false })
  await app.register(opskitRateLimit, options)
  app.get('/items', async () => ({ ok: true }))
  apps.push(app)
  return { app, lines: capture.lines }
}

const errors = (lines: LogLine[]) => lines.filter((l) => l.level === ERROR)

describe.skipIf(!REDIS_URL)('Redis store (real Redis at REDIS_URL)', () => {
  const { keyPrefix, admin } = redisKeyspace('opskit:rl:test')

  it('two Fastify instances share one budget: the combined count is what is limited', async () => {
    const prefix = `${keyPrefix}shared:`
    const a = await build({ redis: REDIS_URL!, max: 5, keyPrefix: prefix })
    const b = await build({ redis: REDIS_URL!, max: 5, keyPrefix: prefix })
    const remaining: string[] = []
    for (let i = 0; i < 5; i++) {
      const res = await (i % 2 === 0 ? a.app : b.app).inject({ url: '/items', remoteAddress: '10.2.0.1' })
      expect(res.statusCode).toBe(200)
      remaining.push(String(res.headers['x-ratelimit-remaining']))
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0'])
    const limitedA = await a.app.inject({ url: '/items', remoteAddress: '10.2.0.1' })
    const limitedB = await b.app.inject({ url: '/items', remoteAddress: '10.2.0.1' })
    expect(limitedA.statusCode).toBe(429)
    expect(limitedB.statusCode).toBe(429)
    expect(Number(limitedB.headers['retry-after'])).toBeGreaterThan(0)
    expect(limitedB.headers['x-ratelimit-limit']).toBe('5')
    expect(limitedB.headers['x-ratelimit-remaining']).toBe('0')
    expect(limitedB.headers['x-ratelimit-reset']).toBe(limitedB.headers['retry-after'])
    expect(limitedB.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests', request_id: limitedB.headers['x-request-id'] })
    // the counter lives in Redis under the prefix, with the window as its expiry
    const ttl = await admin().pttl(`${prefix}10.2.0.1`)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_000)
  })

  it('uses a caller-owned ioredis instance and leaves it open on close', async () => {
    const client = new Redis(REDIS_URL!)
    try {
      const { app } = await build({ redis: client, max: 1, keyPrefix: `${keyPrefix}own:` })
      expect((await app.inject({ url: '/items', remoteAddress: '10.2.0.2' })).statusCode).toBe(200)
      expect((await app.inject({ url: '/items', remoteAddress: '10.2.0.2' })).statusCode).toBe(429)
      await app.close()
      expect(await client.ping()).toBe('PONG')
    } finally {
      client.disconnect()
    }
  })

  it('logs one ERROR per outage: again only after a recovery and a new failure', async () => {
    const client = new Redis(REDIS_URL!, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 200, retryStrategy: () => null })
    client.on('error', () => {})
    await once(client, 'ready')
    const { app, lines } = await build({ redis: client, max: 100, keyPrefix: `${keyPrefix}outage:` })
    try {
      expect((await app.inject('/items')).headers['x-ratelimit-limit']).toBe('100')
      client.disconnect()
      for (let i = 0; i < 10; i++) expect((await app.inject('/items')).statusCode).toBe(200)
      expect(errors(lines)).toHaveLength(1)
      if (client.status !== 'end') await once(client, 'end')
      await client.connect()
      const back = await app.inject('/items')
      expect(back.headers['x-ratelimit-remaining']).toBe('98')
      expect(lines.some((l) => l.msg === 'Rate limit store recovered')).toBe(true)
      client.disconnect()
      for (let i = 0; i < 5; i++) await app.inject('/items')
      expect(errors(lines)).toHaveLength(2)
    } finally {
      client.disconnect()
    }
  })
})

/** A TCP proxy to a real Redis that can stop forwarding (a hung Redis) and resume (it answers again). */
async function pausableProxy(target: string) {
  const { hostname, port } = new URL(target)
  let paused = false
  const held: Array<() => void> = []
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(Number(port || 6379), hostname)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => sockets.delete(s))
    }
    client.on('data', (chunk: Buffer) => {
      if (paused) held.push(() => upstream.write(chunk))
      else upstream.write(chunk)
    })
    upstream.pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    pause: () => {
      paused = true
    },
    resume: () => {
      for (const send of held.splice(0)) send()
      paused = false
    },
    close: () => {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}

describe.skipIf(!REDIS_URL)('Redis that hangs, then answers again (real Redis behind a pausable proxy)', () => {
  for (const kind of ['URL client (commandTimeout)', 'caller client (timer per call)'] as const) {
    it(`${kind}: a late answer to a timed-out call does not end the skipping; the first probe that answers does`, async () => {
      const proxy = await pausableProxy(REDIS_URL!)
      const client = kind === 'URL client (commandTimeout)' ? undefined : new Redis(proxy.url, { maxRetriesPerRequest: 1 })
      client?.on('error', () => {})
      try {
        const { app, lines } = await build({
          redis: client ?? proxy.url,
          failOpen: true,
          max: 100,
          redisTimeoutMs: 100,
          keyPrefix: `opskit:rl:test:${randomUUID()}:`,
        })
        expect((await app.inject('/items')).headers['x-ratelimit-remaining']).toBe('99')
        // The retry interval runs on Date.now(): a frozen clock, moved by hand, so a slow machine
        // cannot end it early (ioredis's own timers stay real).
        vi.useFakeTimers({ toFake: ['Date'] })
        proxy.pause()
        const hung = await app.inject('/items')
        expect(hung.statusCode).toBe(200)
        expect(hung.headers['x-ratelimit-limit']).toBeUndefined() // timed out: let through, not counted
        expect(errors(lines)).toHaveLength(1)
        // Redis answers again, first the call that timed out: its late answer is dropped and
        // requests keep skipping Redis until the retry interval is over
        proxy.resume()
        await new Promise((resolve) => setTimeout(resolve, 50))
        expect((await app.inject('/items')).headers['x-ratelimit-limit']).toBeUndefined()
        expect(lines.some((l) => l.msg === 'Rate limit store recovered')).toBe(false)
        vi.setSystemTime(Date.now() + retryIntervalMs(100))
        // the probe is counted (the held INCR ran in Redis too), and every request after it again
        expect((await app.inject('/items')).headers['x-ratelimit-remaining']).toBe('97')
        expect(lines.some((l) => l.msg === 'Rate limit store recovered')).toBe(true)
        expect((await app.inject('/items')).headers['x-ratelimit-remaining']).toBe('96')
        expect(errors(lines)).toHaveLength(1)
      } finally {
        client?.disconnect()
        proxy.close()
      }
    })
  }
})

describe('Redis down (closed port)', () => {
  const DOWN = 'redis://127.0.0.1:1' // nothing listens on port 1

  it('failOpen true lets every request through, with ONE error log and the store-error metric', async () => {
    const registry = new Registry()
    const { app, lines } = await build({ redis: DOWN, failOpen: true, max: 1 }, registry)
    for (let i = 0; i < 25; i++) {
      const res = await app.inject('/items')
      expect(res.statusCode).toBe(200)
    }
    const logged = errors(lines)
    expect(logged).toHaveLength(1)
    expect(logged[0]!.msg).toMatch(/Rate limit store unavailable, letting requests through/)
    const metric = await registry.getSingleMetric('rate_limit_store_errors_total')!.get()
    expect(metric.values[0]!.value).toBe(25)
  })

  it('failOpen false answers 503 with the JSON error body', async () => {
    const { app, lines } = await build({ redis: DOWN, failOpen: false })
    const res = await app.inject('/items')
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Rate limit store unavailable',
      request_id: res.headers['x-request-id'],
    })
    expect((await app.inject('/items')).statusCode).toBe(503)
    expect(errors(lines)).toHaveLength(1)
  })

  it('stops reconnecting once the app is closed (it owns the client it created from the URL)', async () => {
    let connections = 0
    // a "Redis" that drops every connection at once: the client keeps reconnecting while it lives
    const dropper = createServer((socket) => {
      connections++
      socket.destroy()
    })
    dropper.listen(0, '127.0.0.1')
    await once(dropper, 'listening')
    try {
      const { app } = await build({ redis: `redis://127.0.0.1:${(dropper.address() as { port: number }).port}` })
      while (connections < 2) await new Promise((resolve) => setTimeout(resolve, 20))
      await app.close()
      const atClose = connections
      await new Promise((resolve) => setTimeout(resolve, 700))
      expect(connections).toBe(atClose)
    } finally {
      dropper.close()
    }
  })
})

describe('Redis that accepts connections and never answers', () => {
  let server: Server
  let url: string
  const sockets = new Set<Socket>()
  let received = ''

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket)
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1')
      })
      socket.on('close', () => sockets.delete(socket))
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const address = server.address() as { port: number }
    url = `redis://127.0.0.1:${address.port}`
  })
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    server.close()
  })

  it('a URL client never makes a request wait: failOpen true passes, false answers 503', async () => {
    const open = await build({ redis: url, failOpen: true, redisTimeoutMs: 100 })
    const closed = await build({ redis: url, failOpen: false, redisTimeoutMs: 100 })
    const started = Date.now()
    const results = await Promise.all([open.app.inject('/items'), closed.app.inject('/items')])
    expect(Date.now() - started).toBeLessThan(2000)
    expect(results.map((r) => r.statusCode)).toEqual([200, 503])
  })

  it('stops sending to a Redis that does not answer: one call per retry interval, not one per request', async () => {
    // no ready check: the client counts as ready once connected, so every script call would queue
    const client = new Redis(url, { enableReadyCheck: false, disableClientInfo: true, maxRetriesPerRequest: 1 })
    client.on('error', () => {})
    await once(client, 'ready')
    // the limiter's script call, sent as EVAL or EVALSHA
    const scriptCalls = (): number => received.match(/\r\n(?:eval|evalsha)\r\n/gi)?.length ?? 0
    try {
      const { app, lines } = await build({ redis: client, failOpen: true, redisTimeoutMs: 100 })
      const before = scriptCalls()
      // The retry interval runs on Date.now(): a frozen clock, moved by hand, so 40 requests on a
      // slow machine still fall inside it (ioredis's own timers stay real).
      vi.useFakeTimers({ toFake: ['Date'] })
      for (let i = 0; i < 40; i++) expect((await app.inject('/items')).statusCode).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(scriptCalls() - before).toBe(1)
      // after the interval one call tries again (and times out), the others still skip Redis
      vi.setSystemTime(Date.now() + retryIntervalMs(100))
      for (let i = 0; i < 20; i++) expect((await app.inject('/items')).statusCode).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(scriptCalls() - before).toBe(2)
      expect(errors(lines)).toHaveLength(1) // still one outage
      expect(client.commandQueue.length).toBeLessThanOrEqual(2)
    } finally {
      client.disconnect()
    }
  })

  it('bounds a command on a caller client without commandTimeout by redisTimeoutMs', async () => {
    // no ready check: the client counts as ready once connected, so the script call itself hangs
    const client = new Redis(url, { enableReadyCheck: false, disableClientInfo: true, maxRetriesPerRequest: 1 })
    client.on('error', () => {})
    await once(client, 'ready')
    try {
      const open = await build({ redis: client, failOpen: true, redisTimeoutMs: 100 })
      const closed = await build({ redis: client, failOpen: false, redisTimeoutMs: 100 })
      const started = Date.now()
      const [a, b] = await Promise.all([open.app.inject('/items'), closed.app.inject('/items')])
      expect(Date.now() - started).toBeLessThan(2000)
      expect(a.statusCode).toBe(200)
      expect(b.statusCode).toBe(503)
      expect(errors(open.lines)[0]?.err).toMatchObject({ message: 'Redis did not answer within 100 ms', code: 'FST_OPSKIT_RATE_LIMIT_REDIS_TIMEOUT' })
      // a hang is one outage: the next timed-out calls pass (or 503) without another ERROR line
      for (let i = 0; i < 3; i++) {
        expect((await open.app.inject('/items')).statusCode).toBe(200)
        expect((await closed.app.inject('/items')).statusCode).toBe(503)
      }
      expect(errors(open.lines)).toHaveLength(1)
      expect(errors(closed.lines)).toHaveLength(1)
    } finally {
      client.disconnect()
    }
  })
})
