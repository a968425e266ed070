import Fastify, { type FastifyInstance } from 'fastify'
import { opskitCore, type Actor } from '@opskit/core'
import { Registry } from 'prom-client'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { opskitRateLimit, type OpskitRateLimitOptions } from '@opskit/rate-limit'
import { opskitMetrics } from '@opskit/metrics'
import { opskitSecurityLog } from '@opskit/security-log'
import { DATABASE_KIND, DATABASE_URL, testTables } from '../../../test-utils/env-database.js'
import { ERROR, logCapture, WARN } from '../../../test-utils/server-log-capture.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})
const tables = testTables('security_logs_rl')
afterAll(async () => {
  await tables.drop()
})

const ACTORS: Record<string, Actor> = {
  'admin-token': { id: 'a1', role: 'admin' },
  'user-token': { id: 'u1', role: 'user' },
  'other-user-token': { id: 'u2', role: 'user' },
  'norole-token': { id: 'n1' },
}

async function build(options: OpskitRateLimitOptions = {}, setup?: (f: FastifyInstance) => Promise<void> | void) {
  const capture = logCapture()
  const instance = Fastify({ logger: { level: 'info', stream: capture.stream } })
  await instance.register(opskitCore, {
    // async on purpose: the limiter must wait for it
    resolveActor: async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 2))
      return ACTORS[String(request.headers.authorization ?? '')] ?? null
    },
  })
  if (setup) await setup(instance)
  await instance.register(opskitRateLimit, options)
  instance.get('/items', async () => ({ ok: true }))
  instance.get('/items/:id', async (request) => ({ id: (request.params as { id: string }).id }))
  instance.post('/login', { config: { rateLimit: { max: 2, timeWindow: '1 minute' } } }, async () => ({ ok: true }))
  instance.get('/open', { config: { rateLimit: false } }, async () => ({ ok: true }))
  instance.get('/health', async () => ({ status: 'ok' }))
  instance.get('/health/ready', async () => ({ status: 'ok' }))
  if (!instance.hasRoute({ method: 'GET', url: '/metrics' })) instance.get('/metrics', async () => 'metrics')
  app = instance
  return { app: instance, lines: capture.lines }
}

function hit(instance: FastifyInstance, url = '/items', opts: { ip?: string; token?: string; method?: 'GET' | 'POST' } = {}) {
  return instance.inject({
    method: opts.method ?? 'GET',
    url,
    remoteAddress: opts.ip ?? '10.0.0.1',
    headers: opts.token ? { authorization: opts.token } : {},
  })
}

describe('headers on limited responses', () => {
  it('every limited response carries x-ratelimit-limit, -remaining and -reset', async () => {
    const { app } = await build({ max: 3, timeWindow: 60_000 })
    const first = await hit(app)
    expect(first.statusCode).toBe(200)
    expect(first.headers['x-ratelimit-limit']).toBe('3')
    expect(first.headers['x-ratelimit-remaining']).toBe('2')
    expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThan(0)
    expect(Number(first.headers['x-ratelimit-reset'])).toBeLessThanOrEqual(60)
    const second = await hit(app)
    expect(second.headers['x-ratelimit-remaining']).toBe('1')
  })
})

describe('429', () => {
  it(`answers 429 with retry-after, the JSON body with request_id, a WARN line, the metric and one security event (real @opskit/metrics and @opskit/security-log on ${DATABASE_KIND})`, async () => {
    const registry = new Registry()
    const { app, lines } = await build({ max: 2, timeWindow: '30 seconds' }, async (f) => {
      await f.register(opskitMetrics, { registry, defaultMetrics: false, endpoint: false })
      await f.register(opskitSecurityLog, { connection: DATABASE_URL, table: tables.name() })
    })
    await hit(app, '/items?x=1')
    await hit(app, '/items?x=1')
    const res = await hit(app, '/items?secret=1')
    expect(res.statusCode).toBe(429)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(res.headers['x-ratelimit-limit']).toBe('2')
    expect(res.headers['x-ratelimit-remaining']).toBe('0')
    const retryAfter = Number(res.headers['retry-after'])
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(30)
    expect(res.headers['x-ratelimit-reset']).toBe(res.headers['retry-after'])
    const body = res.json()
    expect(body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringMatching(/^Rate limit exceeded, retry in \d+ seconds?$/),
      request_id: res.headers['x-request-id'],
    })

    const warns = lines.filter((l) => l.level === WARN && l.msg.startsWith('Rate limit hit'))
    expect(warns).toHaveLength(1)
    expect(warns[0]!.msg).toBe('Rate limit hit on GET /items from 10.0.0.1')
    expect(warns[0]).toMatchObject({ route: '/items', limit: 2, key_kind: 'ip', policy: 'default' })
    expect(warns[0]!.shadow).toBeUndefined()

    const metric = await registry.getSingleMetric('rate_limit_rejections_total')!.get()
    expect(metric.values).toEqual([{ value: 1, labels: { route: '/items' } }])

    await app.securityLog.flush()
    const events = await app.securityLog.query({ action: 'rate_limit_hit' })
    expect(events.items).toEqual([
      expect.objectContaining({
        action: 'rate_limit_hit',
        request_id: res.headers['x-request-id'],
        request_path: '/items',
        details: expect.objectContaining({ route: '/items', limit: 2, key_kind: 'ip', window_ms: 30_000, policy: 'default' }),
      }),
    ])
  })

  it('labels the metric with the route template, not the raw URL', async () => {
    const registry = new Registry()
    const { app } = await build({ max: 0 }, async (f) => {
      await f.register(opskitMetrics, { registry, defaultMetrics: false, endpoint: false })
    })
    await hit(app, '/items/1')
    await hit(app, '/items/2')
    const metric = await registry.getSingleMetric('rate_limit_rejections_total')!.get()
    expect(metric.values).toEqual([{ value: 2, labels: { route: '/items/:id' } }])
  })

  it('logs an ERROR when the security event cannot be recorded, and still answers 429', async () => {
    const { app, lines } = await build({ max: 0 }, (f) => {
      f.decorate('securityLog', {} as never)
      f.decorateRequest('securityEvent', (() => Promise.reject(new Error('queue full'))) as never)
    })
    const res = await hit(app)
    expect(res.statusCode).toBe(429)
    await new Promise((resolve) => setImmediate(resolve))
    const error = lines.find((l) => l.level === ERROR)
    expect(error).toMatchObject({ msg: 'Recording the rate_limit_hit security event failed', err: { message: 'queue full' } })
  })

  it('works without metrics or security-log registered', async () => {
    const { app } = await build({ max: 0 })
    expect((await hit(app)).statusCode).toBe(429)
  })

  it('strips control characters from the logged IP', async () => {
    const { app, lines } = await build({ max: 0 })
    await hit(app, '/items', { ip: '10.0.0.9\r\nforged' })
    const warn = lines.find((l) => l.level === WARN)!
    expect(warn.msg).toBe('Rate limit hit on GET /items from 10.0.0.9forged')
  })
})

describe('keys and tiers', () => {
  const tiers = { admin: 5, user: 3, anonymous: 1 }

  it('limits an actor as user:<id> with its role tier, seen through an async resolveActor', async () => {
    const { app } = await build({ max: 2, tiers })
    const admin = await hit(app, '/items', { token: 'admin-token' })
    expect(admin.headers['x-ratelimit-limit']).toBe('5')
    const user = await hit(app, '/items', { token: 'user-token' })
    expect(user.headers['x-ratelimit-limit']).toBe('3')
    const anonymous = await hit(app, '/items')
    expect(anonymous.headers['x-ratelimit-limit']).toBe('1')
    const noRole = await hit(app, '/items', { token: 'norole-token' })
    expect(noRole.headers['x-ratelimit-limit']).toBe('2')
  })

  it('counts a user across IPs and separately from other users and from its IP', async () => {
    const { app, lines } = await build({ max: 100, tiers })
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      expect((await hit(app, '/items', { token: 'user-token', ip })).statusCode).toBe(200)
    }
    const fourth = await hit(app, '/items', { token: 'user-token', ip: '10.0.0.4' })
    expect(fourth.statusCode).toBe(429)
    expect(lines.find((l) => l.level === WARN)).toMatchObject({ key_kind: 'user', limit: 3 })
    // another user and anonymous traffic from the same IPs still have their own budgets
    expect((await hit(app, '/items', { token: 'other-user-token', ip: '10.0.0.1' })).statusCode).toBe(200)
    expect((await hit(app, '/items', { ip: '10.0.0.1' })).statusCode).toBe(200)
  })

  it('limits anonymous traffic by client IP', async () => {
    const { app } = await build({ max: 1 })
    expect((await hit(app, '/items', { ip: '10.0.0.1' })).statusCode).toBe(200)
    expect((await hit(app, '/items', { ip: '10.0.0.1' })).statusCode).toBe(429)
    expect((await hit(app, '/items', { ip: '10.0.0.2' })).statusCode).toBe(200)
  })

  it('keys IPv6 clients by their /64 network', async () => {
    const { app } = await build({ max: 1 })
    expect((await hit(app, '/items', { ip: '2001:db8:1:2::1' })).statusCode).toBe(200)
    expect((await hit(app, '/items', { ip: '2001:db8:1:2::ffff' })).statusCode).toBe(429)
    expect((await hit(app, '/items', { ip: '2001:db8:1:3::1' })).statusCode).toBe(200)
  })

  it('sees an actor set by request.setActor in an app-level onRequest hook added after the plugin', async () => {
    const { app } = await build({ max: 9, tiers })
    app.addHook('onRequest', (request, _reply, done) => {
      if (request.headers['x-service'] === 'yes') request.setActor({ id: 'svc', role: 'admin' })
      done()
    })
    const res = await app.inject({ url: '/items', headers: { 'x-service': 'yes' } })
    expect(res.headers['x-ratelimit-limit']).toBe('5')
  })

  it('never lets two Fastify instances share in-memory counters', async () => {
    const first = await build({ max: 1 })
    const other = Fastify()
    await other.register(opskitCore)
    await other.register(opskitRateLimit, { max: 1 })
    other.get('/items', async () => ({ ok: true }))
    try {
      expect((await hit(first.app)).statusCode).toBe(200)
      expect((await hit(other)).statusCode).toBe(200)
      expect((await hit(first.app)).statusCode).toBe(429)
    } finally {
      await other.close()
    }
  })
})

describe('allowList', () => {
  it('never limits listed IPs or user keys', async () => {
    const { app } = await build({ max: 0, allowList: ['10.0.0.7', 'user:u1'] })
    expect((await hit(app, '/items', { ip: '10.0.0.7' })).statusCode).toBe(200)
    expect((await hit(app, '/items', { token: 'user-token' })).statusCode).toBe(200)
    expect((await hit(app, '/items', { ip: '10.0.0.8' })).statusCode).toBe(429)
  })

  it('accepts an async function of (request, key)', async () => {
    const seen: string[] = []
    const { app } = await build({
      max: 0,
      allowList: async (_request, key) => {
        seen.push(key)
        return key === 'user:a1'
      },
    })
    expect((await hit(app, '/items', { token: 'admin-token' })).statusCode).toBe(200)
    expect((await hit(app, '/items', { token: 'user-token' })).statusCode).toBe(429)
    expect(seen).toEqual(['user:a1', 'user:u1'])
  })
})

describe('per route', () => {
  it('config.rateLimit overrides max and timeWindow with its own counter', async () => {
    const { app } = await build({ max: 100, tiers: { anonymous: 50 } })
    const first = await hit(app, '/login', { method: 'POST' })
    expect(first.headers['x-ratelimit-limit']).toBe('2')
    await hit(app, '/login', { method: 'POST' })
    const third = await hit(app, '/login', { method: 'POST' })
    expect(third.statusCode).toBe(429)
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(30)
    // the global budget of the same client was not spent by /login
    const items = await hit(app, '/items')
    expect(items.headers['x-ratelimit-limit']).toBe('50')
    expect(items.headers['x-ratelimit-remaining']).toBe('49')
  })

  it('GET and its HEAD route share one per-route budget', async () => {
    const { app } = await build({ max: 100 })
    app.get('/export', { config: { rateLimit: { max: 2 } } }, async () => 'csv')
    expect((await app.inject({ method: 'HEAD', url: '/export' })).headers['x-ratelimit-remaining']).toBe('1')
    expect((await app.inject({ method: 'GET', url: '/export' })).headers['x-ratelimit-remaining']).toBe('0')
    expect((await app.inject({ method: 'HEAD', url: '/export' })).statusCode).toBe(429)
  })

  it('config.rateLimit false exempts the route', async () => {
    const { app } = await build({ max: 0 })
    const res = await hit(app, '/open')
    expect(res.statusCode).toBe(200)
    expect(res.headers['x-ratelimit-limit']).toBeUndefined()
  })

  it('exempts /health* and /metrics by default', async () => {
    const { app } = await build({ max: 0 })
    for (const url of ['/health', '/health/ready', '/metrics']) {
      const res = await hit(app, url)
      expect(res.statusCode, url).toBe(200)
      expect(res.headers['x-ratelimit-limit'], url).toBeUndefined()
    }
    expect((await hit(app, '/items')).statusCode).toBe(429)
  })

  it('exemptPaths replaces the default list', async () => {
    const { app } = await build({ max: 0, exemptPaths: ['/items*'] })
    expect((await hit(app, '/items/3')).statusCode).toBe(200)
    expect((await hit(app, '/health')).statusCode).toBe(429)
  })

  it('throws when a route is added with a bad config.rateLimit, naming the field', async () => {
    const { app } = await build({})
    expect(() => app.get('/bad', { config: { rateLimit: { max: -1 } } }, async () => 'x')).toThrow(/config\.rateLimit\.max/)
    expect(() => app.get('/bad2', { config: { rateLimit: true as unknown as false } }, async () => 'x')).toThrow(/config\.rateLimit/)
    expect(() => app.get('/bad3', { config: { rateLimit: { burst: 3 } as never } }, async () => 'x')).toThrow(/config\.rateLimit\.burst/)
  })

  it('a route with its own tiers applies them', async () => {
    const { app } = await build({ max: 10 })
    app.get('/reports', { config: { rateLimit: { tiers: { admin: 7 } } } }, async () => 'ok')
    expect((await hit(app, '/reports', { token: 'admin-token' })).headers['x-ratelimit-limit']).toBe('7')
    expect((await hit(app, '/reports', { token: 'user-token' })).headers['x-ratelimit-limit']).toBe('10')
  })
})

describe('enabled: false', () => {
  it('limits nothing and sets no headers', async () => {
    const { app } = await build({ enabled: false, max: 0 })
    const res = await hit(app)
    expect(res.statusCode).toBe(200)
    expect(res.headers['x-ratelimit-limit']).toBeUndefined()
  })
})

describe('with the real @opskit/metrics', () => {
  it('exposes rate_limit_rejections_total{route} on /metrics', async () => {
    const { opskitMetrics } = await import('@opskit/metrics')
    const { app } = await build({ max: 1 }, async (f) => {
      await f.register(opskitMetrics, { defaultMetrics: false })
    })
    await hit(app, '/items/7')
    await hit(app, '/items/8')
    await hit(app, '/items/9')
    const body = (await app.inject('/metrics')).body
    expect(body).toContain('rate_limit_rejections_total{route="/items/:id"} 2')
  })
})
