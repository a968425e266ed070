import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { opskitCore } from '@opskit/core'
import { opskitMetrics } from '@opskit/metrics'
import { opskitAlerts } from '@opskit/alerts'
import { opskitConsole, FST_OPSKIT_CONSOLE_INVALID_OPTION } from '@opskit/console'
import { actorFromHeaders, buildFullApp, captureLogs, opsAdmin, openConnection, target } from './helpers.js'

describe(`@opskit/console JSON API (audit and security events in ${target})`, () => {
  let db: Awaited<ReturnType<typeof openConnection>>
  let app: FastifyInstance

  beforeAll(async () => {
    db = await openConnection()
    app = await buildFullApp({ connection: db.connection })
  })
  afterAll(async () => {
    await app.close()
    await db.close()
  })

  it('answers 401 without an actor and 403 with one that authorize refuses, on the page and the API', async () => {
    for (const url of ['/ops', '/ops/api/parts', '/ops/api/audit', '/ops/api/health']) {
      expect((await app.inject({ url })).statusCode, url).toBe(401)
      expect((await app.inject({ url, headers: { 'x-user': 'guest' } })).statusCode, url).toBe(403)
      expect((await app.inject({ url, headers: opsAdmin })).statusCode, url).toBe(200)
    }
  })

  it('serves one self-contained page whose CSP allows only its own origin', async () => {
    const res = await app.inject({ url: '/ops', headers: opsAdmin })
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    const csp = String(res.headers['content-security-policy'])
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("connect-src 'self'")
    // The one URL in it is the SVG namespace name, which is never fetched.
    expect(res.body).not.toMatch(/<script[^>]+src=|<link[^>]+href="(?!data:)|https?:\/\/(?!www\.w3\.org\/2000\/svg')/)
    expect(res.body.length).toBeLessThan(60_000)
  })

  it('lists the parts whose plugins are registered', async () => {
    const res = await app.inject({ url: '/ops/api/parts', headers: opsAdmin })
    expect(res.json().parts).toEqual({
      health: true, traffic: true, slowest: true, audit: true, securityEvents: true, rateLimits: true, alerts: false, gauges: true,
    })
    const alerts = await app.inject({ url: '/ops/api/alerts', headers: opsAdmin })
    expect(alerts.statusCode).toBe(404)
    expect(alerts.json().code).toBe('FST_OPSKIT_CONSOLE_PART_MISSING')
  })

  it('shows every health check with its status, latency and since when', async () => {
    const body = (await app.inject({ url: '/ops/api/health', headers: opsAdmin })).json()
    expect(body.status).toBe('degraded')
    expect(body.services.db).toMatchObject({ status: 'ok' })
    expect(body.services.cache).toMatchObject({ status: 'error', error: 'cache is down' })
    expect(typeof body.services.db.latency_ms).toBe('number')
    expect(Date.parse(body.services.db.since)).toBeLessThanOrEqual(Date.now())
  })

  it('counts traffic per minute and per route with 5xx and percentiles, leaving its own polling out', async () => {
    for (let i = 0; i < 3; i++) await app.inject({ url: '/hello' })
    await app.inject({ url: '/boom' })
    for (let i = 0; i < 5; i++) await app.inject({ url: '/ops/api/parts', headers: opsAdmin })
    const body = (await app.inject({ url: '/ops/api/traffic', headers: opsAdmin })).json()
    const hello = body.routes.find((r: any) => r.route === '/hello')
    expect(hello).toMatchObject({ method: 'GET', requests: 3, errors_5xx: 0 })
    expect(hello.p50_ms).toBeGreaterThan(0)
    expect(hello.p99_ms).toBeGreaterThanOrEqual(hello.p50_ms)
    expect(body.routes.find((r: any) => r.route === '/boom')).toMatchObject({ requests: 1, errors_5xx: 1 })
    expect(body.routes.some((r: any) => r.route.startsWith('/ops'))).toBe(false)
    const now = body.minutes.at(-1)
    expect(now.requests).toBeGreaterThanOrEqual(4)
    expect(now.errors_5xx).toBeGreaterThanOrEqual(1)
  })

  it('lists the slowest recent requests with the request id a person can grep the logs for', async () => {
    const slow = await app.inject({ url: '/slow?ms=150&secret=x' })
    const body = (await app.inject({ url: '/ops/api/slowest', headers: opsAdmin })).json()
    expect(body.items[0]).toMatchObject({ request_id: slow.headers['x-request-id'], method: 'GET', route: '/slow', path: '/slow', status_code: 200 })
    expect(body.items[0].duration_ms).toBeGreaterThanOrEqual(140)
  })

  it('finds the audit row written just before, with the list route filters and pagination', async () => {
    const created = (await app.inject({ method: 'POST', url: '/bookings', headers: { 'x-user': 'u-7' }, payload: { guest: 'Ada' } })).json()
    const page = (await app.inject({ url: `/ops/api/audit?entity_id=${created.id}&limit=5`, headers: opsAdmin })).json()
    expect(page).toMatchObject({ total: 1, limit: 5, skip: 0 })
    expect(page.items[0]).toMatchObject({ action: 'create', entity_type: 'booking', entity_id: created.id, user_id: 'u-7' })
    const bad = await app.inject({ url: '/ops/api/audit?limit=1000', headers: opsAdmin })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().message).toContain('limit')
  })

  it('filters security events like GET /security/events', async () => {
    await app.inject({ url: '/ops/api/parts', headers: { 'x-user': 'mallory' } }) // 403 → authz_denied
    await app.inject({ url: '/ops/api/parts' }) // 401 → token_invalid
    await app.securityLog.flush()
    const denied = (await app.inject({ url: '/ops/api/security-events?action=authz_denied&user_id=mallory', headers: opsAdmin })).json()
    expect(denied.total).toBeGreaterThanOrEqual(1)
    expect(denied.items.every((r: any) => r.action === 'authz_denied' && r.user_id === 'mallory')).toBe(true)
    const bad = await app.inject({ url: '/ops/api/security-events?ip=not-an-ip', headers: opsAdmin })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().message).toContain('ip')
  })

  it('counts rate-limit rejections by route', async () => {
    for (let i = 0; i < 4; i++) await app.inject({ url: '/limited' })
    const body = (await app.inject({ url: '/ops/api/rate-limits', headers: opsAdmin })).json()
    expect(body.routes).toContainEqual({ route: '/limited', total: 2, last_hour: 2 })
  })

  it("shows the app's own gauges and none of opskit's", async () => {
    const body = (await app.inject({ url: '/ops/api/gauges', headers: opsAdmin })).json()
    const names = body.metrics.map((m: any) => m.name)
    expect(names).toContain('bookings_pending')
    expect(body.metrics.find((m: any) => m.name === 'bookings_pending').values).toEqual([{ labels: {}, value: 7 }])
    expect(names.filter((n: string) => /^(http_|rate_limit_|audit_|security_|health_)/.test(n))).toEqual([])
  })
})

describe('@opskit/console registration', () => {
  let app: FastifyInstance | undefined
  afterEach(async () => {
    await app?.close()
    app = undefined
  })

  async function bare(consoleOpts: Record<string, unknown>, logs = captureLogs()): Promise<FastifyInstance> {
    app = Fastify({ logger: { level: 'info', stream: logs } })
    await app.register(opskitCore, { resolveActor: actorFromHeaders })
    await app.register(opskitMetrics, { defaultMetrics: false })
    await app.register(opskitConsole, consoleOpts)
    await app.ready()
    return app
  }

  it('registers nothing without authorize, and says so', async () => {
    const logs = captureLogs()
    const a = await bare({}, logs)
    expect((await a.inject({ url: '/ops', headers: opsAdmin })).statusCode).toBe(404)
    expect((await a.inject({ url: '/ops/api/parts', headers: opsAdmin })).statusCode).toBe(404)
    expect(logs.lines.some((l) => l.level === 40 && String(l.msg).includes('no authorize'))).toBe(true)
  })

  it('serves nothing and leaks no message when authorize throws', async () => {
    const logs = captureLogs()
    const a = await bare({ authorize: () => { throw new Error('secret-token-xyz is wrong') } }, logs)
    for (const url of ['/ops', '/ops/api/gauges']) {
      const res = await a.inject({ url, headers: opsAdmin })
      expect(res.statusCode).toBe(500)
      expect(res.body).not.toContain('secret-token-xyz')
      expect(res.body).not.toContain('<html')
    }
    expect(logs.lines.some((l) => l.level === 50 && String(l.msg).includes('authorize() threw'))).toBe(true)
  })

  it('authorize alone decides: an app may let a request without actor in (by key)', async () => {
    const a = await bare({ authorize: (request: { headers: Record<string, unknown> }) => request.headers['x-ops-key'] === 'k1', prefix: '/admin/ops/' })
    expect((await a.inject({ url: '/admin/ops', headers: { 'x-ops-key': 'k1' } })).statusCode).toBe(200)
    expect((await a.inject({ url: '/admin/ops', headers: { 'x-ops-key': 'k2' } })).statusCode).toBe(401)
    const parts = (await a.inject({ url: '/admin/ops/api/parts', headers: { 'x-ops-key': 'k1' } })).json().parts
    expect(parts).toMatchObject({ health: false, audit: false, securityEvents: false, rateLimits: false, traffic: true })
    expect((await a.inject({ url: '/admin/ops/api/audit', headers: { 'x-ops-key': 'k1' } })).statusCode).toBe(404)
  })

  it('refuses an unknown option or a bad value at register(), naming it', async () => {
    await expect(bare({ authorize: () => true, refresh: 5000 })).rejects.toThrow(FST_OPSKIT_CONSOLE_INVALID_OPTION)
    await app?.close()
    await expect(bare({ authorize: () => true, refresh: 5000 })).rejects.toThrow(/"refresh"/)
    await app?.close()
    await expect(bare({ authorize: () => true, slowRequests: -1 })).rejects.toThrow(/"slowRequests"/)
  })

  it('reads fastify.alerts when @opskit/alerts is registered (the real plugin)', async () => {
    app = Fastify()
    await app.register(opskitCore, { resolveActor: actorFromHeaders })
    const received: string[] = []
    let down = true
    await app.register(opskitAlerts, {
      sinks: [{ name: 'memory', send: async (message) => { received.push(JSON.stringify(message)) } }],
      custom: [{ name: 'queue_stuck', severity: 'critical', everyMs: 1000, evaluate: () => down }],
    })
    await app.register(opskitConsole, { authorize: () => true })
    await app.ready()
    await app.alerts.evaluate()
    let body = (await app.inject({ url: '/ops/api/alerts' })).json()
    expect(body.firing).toEqual([expect.objectContaining({ alert: 'queue_stuck', severity: 'critical' })])
    expect(body.history).toEqual([expect.objectContaining({ alert: 'queue_stuck', kind: 'firing' })])
    down = false
    // A custom rule runs at most every `everyMs`: move the clock past it rather than wait.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 2000 })
    try {
      await app.alerts.evaluate()
    } finally {
      vi.useRealTimers()
    }
    body = (await app.inject({ url: '/ops/api/alerts' })).json()
    expect(body.firing).toEqual([])
    expect(body.history.map((entry: { kind: string }) => entry.kind)).toEqual(['firing', 'resolved'])
    expect((await app.inject({ url: '/ops/api/parts' })).json().parts.alerts).toBe(true)
  })

  it('clears its minute timer when Fastify closes', async () => {
    const set = vi.spyOn(globalThis, 'setInterval')
    const clear = vi.spyOn(globalThis, 'clearInterval')
    try {
      const a = await bare({ authorize: () => true })
      const call = set.mock.calls.findIndex((args) => args[1] === 60_000)
      expect(call).toBeGreaterThanOrEqual(0)
      const timer = set.mock.results[call]?.value as NodeJS.Timeout
      expect(timer.hasRef()).toBe(false)
      await a.close()
      app = undefined
      expect(clear).toHaveBeenCalledWith(timer)
    } finally {
      set.mockRestore()
      clear.mockRestore()
    }
  })
})
