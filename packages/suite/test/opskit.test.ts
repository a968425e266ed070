import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { opskitCore } from '@opskit/core'
import { loadConfig, opskit, serverOptions, type OpskitOptions } from '@opskit/suite'
import { OPSKIT_METRICS } from '@opskit/metrics'
import { expectOptionError, registerError } from '../../../test-utils/server-register.js'
import { jsonLines as quietLogger } from '../../../test-utils/server-log-capture.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

const ORIGIN = 'https://app.example.com'
const BASE_ENV = { APP_VERSION: '2.3.4', CORS_ORIGINS: ORIGIN, RATE_LIMIT_REQUESTS: '3', RATE_LIMIT_PERIOD: '60' }

/** A bookings-style app on the whole suite, every part on embedded defaults unless overridden. */
async function buildApp(options: Omit<OpskitOptions, 'config'> = {}, env: Record<string, string> = BASE_ENV) {
  const log = quietLogger()
  const config = loadConfig(env)
  const instance = Fastify(serverOptions(config, { destination: log.stream }))
  app = instance
  await instance.register(opskit, {
    config,
    core: {
      resolveActor: (request) => {
        const id = request.headers['x-user-id']
        return typeof id === 'string' ? { id, role: 'staff', email: 'staff@example.com' } : null
      },
    },
    ...options,
  })
  instance.get('/hello', async () => ({ hello: 'world' }))
  instance.post<{ Body: { guest: string } }>('/bookings', async (request, reply) => {
    const booking = { id: 'b-1', guest: request.body.guest, status: 'pending' }
    await request.audit({ action: 'create', entityType: 'booking', entityId: booking.id, after: booking })
    return reply.code(201).send(booking)
  })
  await instance.ready()
  return { app: instance, lines: log.lines }
}

describe('opskit with every part on embedded defaults', () => {
  it('serves /health, /health/ready and /metrics, and sets x-request-id everywhere', async () => {
    const { app } = await buildApp()
    const health = await app.inject('/health')
    expect(health.statusCode).toBe(200)
    expect(health.json()).toMatchObject({ status: 'ok', version: '2.3.4' })
    expect(health.headers['x-request-id']).toBeTypeOf('string')

    const ready = await app.inject('/health/ready')
    expect(ready.statusCode).toBe(200)
    expect(ready.json().status).toBe('ok')

    await app.inject('/hello')
    const metrics = await app.inject('/metrics')
    expect(metrics.statusCode).toBe(200)
    expect(metrics.body).toMatch(/http_requests_total\{[^}]*route="\/hello"[^}]*\} 1/)

    const missing = await app.inject({ url: '/nope', headers: { 'x-request-id': 'trace-404' } })
    expect(missing.statusCode).toBe(404)
    expect(missing.headers['x-request-id']).toBe('trace-404')
  })

  it('publishes the plugin metrics exactly as OPSKIT_METRICS describes them (names and help texts)', async () => {
    // alerts is on once a sink is configured: a sink that delivers nowhere
    const { app } = await buildApp({ alerts: { sinks: [{ name: 'nowhere', send: async () => undefined }] } })
    await app.inject('/hello')
    const text = (await app.inject('/metrics')).body
    const help = new Map([...text.matchAll(/^# HELP (\S+) (.*)$/gm)].map((m) => [m[1], m[2]]))
    const published = Object.values(OPSKIT_METRICS).filter((metric) => help.has(metric.name))
    expect(published.map((metric) => metric.name).sort()).toEqual(Object.values(OPSKIT_METRICS).map((metric) => metric.name).sort())
    for (const metric of published) expect(help.get(metric.name), metric.name).toBe(metric.help)
  })

  it('rate-limits from RATE_LIMIT_*: a 429 with headers, retry-after, request_id and one security event row', async () => {
    const { app, lines } = await buildApp()
    const statuses: number[] = []
    let last
    for (let i = 0; i < 4; i++) {
      last = await app.inject({ url: '/hello', headers: { 'x-request-id': `rl-${i}` } })
      statuses.push(last.statusCode)
      expect(last.headers['x-ratelimit-limit']).toBe('3')
    }
    expect(statuses).toEqual([200, 200, 200, 429])
    // RATE_LIMIT_PERIOD=60 is seconds: the client is told to come back in about a minute
    expect(last!.headers['retry-after']).toMatch(/^\d+$/)
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(50)
    expect(Number(last!.headers['retry-after'])).toBeLessThanOrEqual(60)
    expect(last!.headers['x-ratelimit-remaining']).toBe('0')
    expect(last!.json()).toMatchObject({ statusCode: 429, request_id: 'rl-3' })

    // health and metrics stay reachable for probes and scrapers
    for (let i = 0; i < 5; i++) expect((await app.inject('/health')).statusCode).toBe(200)
    expect((await app.inject('/metrics')).statusCode).toBe(200)

    await app.securityLog.flush()
    const events = await app.securityLog.query({ action: 'rate_limit_hit' })
    expect(events.items).toHaveLength(1)
    expect(events.items[0]).toMatchObject({ action: 'rate_limit_hit', request_id: 'rl-3', request_path: '/hello' })
    expect(lines().some((line) => line.level === 'WARN' && String(line.message).startsWith('Rate limit hit on GET /hello'))).toBe(true)
    const metrics = await app.inject('/metrics')
    expect(metrics.body).toMatch(/rate_limit_rejections_total\{route="\/hello"\} 1/)
  })

  it('lands an audited write in audit_logs with the actor and request id', async () => {
    const { app } = await buildApp()
    const res = await app.inject({
      method: 'POST',
      url: '/bookings',
      headers: { 'x-user-id': 'u-7', 'x-request-id': 'audit-1' },
      payload: { guest: 'Ada' },
    })
    expect(res.statusCode).toBe(201)
    const rows = await app.audit.query({ entity_type: 'booking' })
    expect(rows.items).toHaveLength(1)
    expect(rows.items[0]).toMatchObject({
      action: 'create',
      entity_type: 'booking',
      entity_id: 'b-1',
      user_id: 'u-7',
      request_id: 'audit-1',
      request_path: '/bookings',
    })
  })

  it('writes one request completed line per request, with request_id and user_id', async () => {
    const { app, lines } = await buildApp()
    await app.inject({ url: '/hello', headers: { 'x-user-id': 'u-1', 'x-request-id': 'log-1' } })
    await app.inject('/health')
    const completed = lines().filter((line) => line.message === 'request completed')
    expect(completed).toHaveLength(1)
    expect(completed[0]).toMatchObject({ request_id: 'log-1', user_id: 'u-1', route: '/hello', status_code: 200 })
  })

  it('shares one in-memory PGlite between audit and security-log, closed with the app', async () => {
    const { app, lines } = await buildApp()
    expect(app.opskit.config.appVersion).toBe('2.3.4')
    expect(app.opskit.pool).toBeUndefined()
    expect(app.opskit.redis).toBeUndefined()
    const pglite = app.opskit.pglite!
    const { rows } = await pglite.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_name IN ('audit_logs', 'security_logs') ORDER BY 1",
    )
    expect(rows.map((row) => row.table_name)).toEqual(['audit_logs', 'security_logs'])
    // one WARN about embedded storage, not one per part
    expect(lines().filter((line) => line.level === 'WARN' && /PGlite/.test(String(line.message)))).toHaveLength(1)
    await app.close()
    expect(pglite.closed).toBe(true)
  })
})

describe('CORS from CORS_ORIGINS', () => {
  it('answers a preflight and exposes x-request-id, the rate-limit headers and retry-after', async () => {
    const { app } = await buildApp()
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/bookings',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
    })
    expect(preflight.statusCode).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe(ORIGIN)
    expect(String(preflight.headers['access-control-allow-methods'])).toContain('POST')

    const res = await app.inject({ url: '/hello', headers: { origin: ORIGIN } })
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN)
    expect(res.headers.vary).toBe('Origin')
    const exposed = String(res.headers['access-control-expose-headers']).split(/,\s*/)
    expect(exposed).toEqual(
      expect.arrayContaining(['x-request-id', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after']),
    )
  })

  it('leaves requests without Origin alone (only Vary: Origin), so API clients get no CORS headers', async () => {
    const { app } = await buildApp()
    const res = await app.inject('/hello')
    expect(res.statusCode).toBe(200)
    expect(res.headers.vary).toBe('Origin')
    expect(Object.keys(res.headers).filter((name) => name.startsWith('access-control-'))).toEqual([])
    expect(app.hasPlugin('@fastify/cors')).toBe(true)
  })

  it('puts the CORS headers on a 429 too, so a browser can read it', async () => {
    const { app } = await buildApp()
    let res
    for (let i = 0; i < 4; i++) res = await app.inject({ url: '/hello', headers: { origin: ORIGIN } })
    expect(res!.statusCode).toBe(429)
    expect(res!.headers['access-control-allow-origin']).toBe(ORIGIN)
  })

  it('registers the real @fastify/cors plugin, and a user origin function still sees only requests with Origin', async () => {
    const seen: (string | undefined)[] = []
    const { app } = await buildApp({
      cors: {
        origin: (origin, callback) => {
          seen.push(origin)
          callback(null, origin === 'https://fn.example.com')
        },
      },
    })
    const allowed = await app.inject({ url: '/hello', headers: { origin: 'https://fn.example.com' } })
    expect(allowed.headers['access-control-allow-origin']).toBe('https://fn.example.com')
    const refused = await app.inject({ url: '/hello', headers: { origin: ORIGIN } })
    expect(refused.headers['access-control-allow-origin']).toBeUndefined()
    const plain = await app.inject('/hello')
    expect(Object.keys(plain.headers).filter((name) => name.startsWith('access-control-'))).toEqual([])
    expect(plain.headers.vary).toBe('Origin')
    expect(seen).toEqual(['https://fn.example.com', ORIGIN])
    expect(app.printPlugins()).toContain('@fastify/cors')
  })

  it('an async origin function that rejects with a non-Error fails the request with FST_OPSKIT_CORS_ORIGIN_FAILED', async () => {
    const { app } = await buildApp({ cors: { origin: async () => Promise.reject('origin lookup down') } })
    const res = await app.inject({ url: '/hello', headers: { origin: ORIGIN } })
    expect(res.statusCode).toBe(500)
    expect(res.json()).toMatchObject({ code: 'FST_OPSKIT_CORS_ORIGIN_FAILED', message: expect.stringContaining('origin lookup down') })
  })

  it('does not answer other origins, and is not registered when CORS_ORIGINS is unset', async () => {
    const { app } = await buildApp()
    const other = await app.inject({ url: '/hello', headers: { origin: 'https://evil.example.net' } })
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
    await app.close()

    const { app: plain } = await buildApp({}, { ...BASE_ENV, CORS_ORIGINS: '' })
    const res = await plain.inject({ url: '/hello', headers: { origin: ORIGIN } })
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('each part can be turned off', () => {
  it('metrics: false → no /metrics and no fastify.metrics; the rest still works', async () => {
    const { app } = await buildApp({ metrics: false })
    expect((await app.inject('/metrics')).statusCode).toBe(404)
    expect(app.hasDecorator('metrics')).toBe(false)
    expect((await app.inject('/health')).statusCode).toBe(200)
  })

  it('health: false → no /health routes', async () => {
    const { app } = await buildApp({ health: false })
    expect((await app.inject('/health')).statusCode).toBe(404)
    expect((await app.inject('/health/ready')).statusCode).toBe(404)
    expect((await app.inject('/metrics')).statusCode).toBe(200)
  })

  it('rateLimit: false → no limit and no x-ratelimit headers', async () => {
    const { app } = await buildApp({ rateLimit: false })
    for (let i = 0; i < 6; i++) {
      const res = await app.inject('/hello')
      expect(res.statusCode).toBe(200)
      expect(res.headers['x-ratelimit-limit']).toBeUndefined()
    }
  })

  it('RATE_LIMIT_ENABLED=false turns the limiter off from the environment', async () => {
    const { app } = await buildApp({}, { ...BASE_ENV, RATE_LIMIT_ENABLED: 'false' })
    for (let i = 0; i < 6; i++) expect((await app.inject('/hello')).statusCode).toBe(200)
  })

  it('audit: false and securityLog: false → no decorators, no database', async () => {
    const { app } = await buildApp({ audit: false, securityLog: false })
    expect(app.hasDecorator('audit')).toBe(false)
    expect(app.hasDecorator('securityLog')).toBe(false)
    expect(app.hasRequestDecorator('audit')).toBe(false)
    // rate limiting still rejects without security-log beside it
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await app.inject('/hello')).statusCode)
    expect(statuses).toEqual([200, 200, 200, 429])
  })

  it('logging: false → no request completed lines', async () => {
    const { app, lines } = await buildApp({ logging: false })
    await app.inject('/hello')
    expect(lines().filter((line) => line.message === 'request completed')).toEqual([])
  })

  it('cors: false → no CORS headers even with CORS_ORIGINS set', async () => {
    const { app } = await buildApp({ cors: false })
    const res = await app.inject({ url: '/hello', headers: { origin: ORIGIN } })
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('core: false works when core is already registered, and throws naming core when it is not', async () => {
    const config = loadConfig({})
    const withCore = Fastify()
    app = withCore
    await withCore.register(opskitCore)
    await withCore.register(opskit, { config, core: false, audit: false, securityLog: false })
    withCore.get('/hello', async () => 'hi')
    const res = await withCore.inject('/hello')
    expect(res.headers['x-request-id']).toBeTypeOf('string')
    await withCore.close()

    const withoutCore = Fastify()
    app = withoutCore
    withoutCore.register(opskit, { config, core: false })
    await expect(withoutCore.ready()).rejects.toThrow(/"core"/)
  })

  it('passes each part its own options over the config defaults', async () => {
    const { app } = await buildApp({ health: { prefix: '/status' }, metrics: { endpoint: '/internal/metrics' }, rateLimit: { max: 1 } })
    expect((await app.inject('/status')).json()).toMatchObject({ status: 'ok', version: '2.3.4' })
    expect((await app.inject('/internal/metrics')).statusCode).toBe(200)
    expect((await app.inject('/hello')).statusCode).toBe(200)
    expect((await app.inject('/hello')).statusCode).toBe(429)
  })
})

describe('options and config errors', () => {
  it('throws at register() naming an unknown or malformed option', async () => {
    const config = loadConfig({})
    const code = 'FST_OPSKIT_INVALID_OPTION'
    expectOptionError(await registerError(opskit, { config, metric: {} }, { core: false }), code, 'metric')
    expectOptionError(await registerError(opskit, { config, rateLimit: 'on' }, { core: false }), code, 'rateLimit')
    expectOptionError(await registerError(opskit, { config, audit: [] }, { core: false }), code, 'audit')
    expectOptionError(await registerError(opskit, { config: 'production' }, { core: false }), code, 'config')
  })

  it('protects /metrics with METRICS_TOKEN', async () => {
    const { app } = await buildApp({}, { ...BASE_ENV, METRICS_TOKEN: 'scrape-token-123' })
    expect((await app.inject('/metrics')).statusCode).toBe(401)
    const ok = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-token-123' } })
    expect(ok.statusCode).toBe(200)
  })
})

describe('the console part', () => {
  it('is off by default, and with authorize serves /ops with the parts the suite registered', async () => {
    const off = await buildApp()
    expect((await off.app.inject('/ops')).statusCode).toBe(404)
    await off.app.close()

    const { app } = await buildApp({ console: { authorize: (request) => request.headers['x-ops-key'] === 'dev-key' } })
    expect((await app.inject('/ops')).statusCode).toBe(401)
    const parts = await app.inject({ url: '/ops/api/parts', headers: { 'x-ops-key': 'dev-key' } })
    expect(parts.json().parts).toMatchObject({ health: true, traffic: true, audit: true, securityEvents: true, rateLimits: true })
    await app.inject({ method: 'POST', url: '/bookings', headers: { 'x-user-id': 'u-1' }, payload: { guest: 'Ada' } })
    const audit = await app.inject({ url: '/ops/api/audit?entity_id=b-1', headers: { 'x-ops-key': 'dev-key' } })
    expect(audit.json().items[0]).toMatchObject({ action: 'create', entity_id: 'b-1', user_id: 'u-1' })
  })
})
