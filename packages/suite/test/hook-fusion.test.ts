import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { opskitCore } from '@opskit/core'
import { opskitLogging } from '@opskit/logging'
import { opskitMetrics } from '@opskit/metrics'
import { loadConfig, opskit, serverOptions } from '@opskit/suite'
import { hookNames as routeHookNames } from '../../../test-utils/server-routes.js'
import { jsonLines } from '../../../test-utils/server-log-capture.js'

// With core on the same instance, the opskit plugins' request hooks run from one Fastify hook per
// phase. These tests pin what depends on the order inside those hooks.

const captureLines = jsonLines

const hookNames = (instance: FastifyInstance, phase: string, path = '/hello'): string[] => routeHookNames(instance, phase, path)

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

async function suiteApp() {
  const log = captureLines()
  const config = loadConfig({ RATE_LIMIT_REQUESTS: '2', RATE_LIMIT_PERIOD: '60', CORS_ORIGINS: 'https://app.example.com' })
  const instance = Fastify(serverOptions(config, { destination: log.stream }))
  app = instance
  await instance.register(opskit, {
    config,
    core: {
      resolveActor: async (request) => {
        const id = request.headers['x-user-id']
        return typeof id === 'string' ? { id, role: 'staff' } : null
      },
    },
  })
  instance.get('/hello', async () => ({ hello: 'world' }))
  instance.get('/private', { config: { rateLimit: false } }, async (_request, reply) => reply.code(401).send({ message: 'sign in' }))
  await instance.ready()
  return { app: instance, lines: log.lines }
}

describe('the opskit suite: one hook per phase', () => {
  it('runs core, logging, metrics and outbound from one onRequest hook, and logging, metrics and security-log from one onResponse hook', async () => {
    const { app } = await suiteApp()
    // core's fused hook, then @fastify/cors; rate-limit's route-level limiter stays last
    expect(hookNames(app, 'onRequest')).toEqual(['onRequest', 'handleCors', 'rateLimitOnRequest'])
    // the fused hook, then metrics' route-level recorder
    expect(hookNames(app, 'onResponse')).toEqual(['opskitOnResponse', 'recordRoute'])
  })

  it('a rate-limited 429: its request completed line has the actor and the status, metrics count it, security-log records it once', async () => {
    const { app, lines } = await suiteApp()
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ url: '/hello', headers: { 'x-user-id': 'u-9', 'x-request-id': `f-${i}` } })
      statuses.push(res.statusCode)
    }
    expect(statuses).toEqual([200, 200, 429])

    const completed = lines().filter((line) => line.message === 'request completed')
    expect(completed.map((line) => [line.request_id, line.user_id, line.status_code])).toEqual([
      ['f-0', 'u-9', 200],
      ['f-1', 'u-9', 200],
      ['f-2', 'u-9', 429],
    ])

    const metrics = await app.inject('/metrics')
    expect(metrics.body).toMatch(/http_requests_total\{method="GET",route="\/hello",status_code="429"\} 1/)
    expect(metrics.body).toMatch(/http_requests_total\{method="GET",route="\/hello",status_code="200"\} 2/)
    expect(metrics.body).toMatch(/rate_limit_rejections_total\{route="\/hello"\} 1/)
    // every response closed: nothing left in flight but the scrape itself
    expect(metrics.body).toMatch(/http_requests_in_flight 1/)

    await app.securityLog.flush()
    const events = await app.securityLog.query({ action: 'rate_limit_hit' })
    expect(events.items).toHaveLength(1)
    expect(events.items[0]).toMatchObject({ request_id: 'f-2', user_id: 'u-9' })
  })

  it('auto capture sees the status the handler set (401 → token_invalid), after the line and the count', async () => {
    const { app, lines } = await suiteApp()
    const res = await app.inject({ url: '/private', headers: { 'x-request-id': 'p-1' } })
    expect(res.statusCode).toBe(401)

    expect(lines().find((line) => line.message === 'request completed')).toMatchObject({ request_id: 'p-1', status_code: 401, route: '/private' })
    expect((await app.inject('/metrics')).body).toMatch(/http_requests_total\{method="GET",route="\/private",status_code="401"\} 1/)
    await app.securityLog.flush()
    const events = await app.securityLog.query({ action: 'token_invalid' })
    expect(events.items).toHaveLength(1)
    expect(events.items[0]).toMatchObject({ request_id: 'p-1', request_path: '/private' })
  })

  it('a 404 is logged and counted in the unmatched series by the fused onResponse hook', async () => {
    const { app, lines } = await suiteApp()
    expect((await app.inject({ url: '/nope', headers: { 'x-request-id': 'n-1' } })).statusCode).toBe(404)
    expect(lines().find((line) => line.message === 'request completed')).toMatchObject({ request_id: 'n-1', status_code: 404 })
    expect((await app.inject('/metrics')).body).toMatch(/http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1/)
  })
})

describe('the same plugins registered on their own keep their own hooks', () => {
  it('logging and metrics in a child scope under core keep their hooks there: routes outside are neither logged nor counted', async () => {
    const log = captureLines()
    const config = loadConfig({})
    app = Fastify(serverOptions(config, { destination: log.stream }))
    await app.register(opskitCore)
    await app.register(async (child) => {
      await child.register(opskitLogging)
      await child.register(opskitMetrics)
      child.get('/inside', async () => 'in')
    })
    app.get('/outside', async () => 'out')
    await app.ready()

    await app.inject({ url: '/outside', headers: { 'x-request-id': 'o-1' } })
    await app.inject({ url: '/inside', headers: { 'x-request-id': 'i-1' } })
    const completed = log.lines().filter((line) => line.message === 'request completed')
    expect(completed.map((line) => line.request_id)).toEqual(['i-1'])
    const metrics = await app.inject('/metrics')
    expect(metrics.body).toMatch(/route="\/inside"/)
    expect(metrics.body).not.toMatch(/route="\/outside"/)
  })
})
