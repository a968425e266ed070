import { afterAll, afterEach, describe, expect, it } from 'vitest'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { opskitCore, requestIdGenerator } from '@opskit/core'
import { opskitSecurityLog } from '@opskit/security-log'
import { STORE, buildApp, connection, dropTables, uniqueName } from './helpers.js'

const tables: string[] = []
function table(): string {
  const name = uniqueName('security_logs_auto')
  tables.push(name)
  return name
}

function routes(app: FastifyInstance): void {
  app.get('/private', async (_request, reply) => reply.code(401).send({ error: 'no token' }))
  app.get('/admin', async (_request, reply) => reply.code(403).send({ error: 'no' }))
  app.get('/busy', async (_request, reply) => reply.code(429).send({ error: 'slow down' }))
  app.get('/ok', async () => ({ ok: true }))
  app.get('/quiet', { config: { securityLog: false } }, async (_request, reply) => reply.code(401).send({ error: 'no token' }))
  app.post('/validated', { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } }, async () => ({ ok: true }))
  // What @opskit/rate-limit does on a rejection: record its own rate_limit_hit, then answer 429.
  app.get('/limited', {
    onRequest: (request, reply, done) => {
      void request.securityEvent('rate_limit_hit', { details: { limit: 10, window_ms: 60000 } })
      reply.code(429).send({ statusCode: 429, error: 'Too Many Requests', message: 'Rate limit exceeded' })
      done()
    },
  }, async () => ({ unreachable: true }))
}

describe(`auto capture (${STORE})`, () => {
  let app: FastifyInstance | undefined
  afterEach(async () => {
    await app?.close()
    app = undefined
  })
  afterAll(() => dropTables(tables))

  it('records token_invalid for 401, authz_denied for 403, rate_limit_hit for 429, nothing for 2xx', async () => {
    app = await buildApp({ table: table() })
    routes(app)
    await app.inject({ url: '/private', headers: { 'x-request-id': 'r401' } })
    await app.inject({ url: '/admin', headers: { 'x-user': 'u7', 'x-request-id': 'r403' } })
    await app.inject({ url: '/busy', headers: { 'x-forwarded-for': '198.51.100.9', 'x-request-id': 'r429' } })
    await app.inject({ url: '/ok' })
    await app.securityLog.flush()
    const { items, total } = await app.securityLog.query({})
    expect(total).toBe(3)
    const byAction = Object.fromEntries(items.map((i) => [i.action, i]))
    expect(byAction.token_invalid).toMatchObject({ severity: 'warning', request_path: '/private', request_id: 'r401', user_id: null, details: { method: 'GET', status_code: 401, route: '/private' } })
    expect(byAction.authz_denied).toMatchObject({ severity: 'warning', request_path: '/admin', request_id: 'r403', user_id: 'u7', user_email: 'u7@example.com' })
    expect(byAction.rate_limit_hit).toMatchObject({ severity: 'warning', request_path: '/busy', ip_address: '198.51.100.9' })
  })

  it('a 429 whose handler already recorded rate_limit_hit (as rate-limit does) gives exactly one event', async () => {
    app = await buildApp({ table: table() })
    routes(app)
    const res = await app.inject({ url: '/limited' })
    expect(res.statusCode).toBe(429)
    await app.securityLog.flush()
    const { items, total } = await app.securityLog.query({ action: 'rate_limit_hit' })
    expect(total).toBe(1)
    expect(items[0]!.details).toEqual({ limit: 10, window_ms: 60000 })
  })

  it('a 401 whose handler recorded token_invalid through fastify.securityLog.record() gives exactly one event', async () => {
    app = await buildApp({ table: table() })
    app.get('/login', async function (_request, reply) {
      void this.securityLog.record({ action: 'token_invalid', details: { reason: 'expired' } })
      return reply.code(401).send({ error: 'expired' })
    })
    expect((await app.inject({ url: '/login' })).statusCode).toBe(401)
    expect((await app.inject({ url: '/login' })).statusCode).toBe(401)
    await app.securityLog.flush()
    const { items, total } = await app.securityLog.query({})
    expect(total).toBe(2)
    expect(items.map((i) => i.details)).toEqual([{ reason: 'expired' }, { reason: 'expired' }])
  })

  it('a 401 answered before core ran (an earlier onRequest hook) that recorded token_invalid gives exactly one event, with the request fields', async () => {
    app = Fastify({ genReqId: requestIdGenerator() })
    // Registered before core: answering here skips core's onRequest, so core never builds the context.
    app.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith('/early')) {
        void request.securityEvent('token_invalid', { details: { reason: 'gateway' } })
        return reply.code(401).send({ error: 'no token' })
      }
    })
    await app.register(opskitCore)
    await app.register(opskitSecurityLog, { connection: connection(), table: table() })
    app.get('/early/:id', async () => 'unreachable')
    expect((await app.inject({ url: '/early/1?x=1', headers: { 'x-request-id': 'early-1' } })).statusCode).toBe(401)
    await app.securityLog.flush()
    const { items, total } = await app.securityLog.query({})
    expect(total).toBe(1)
    expect(items[0]).toMatchObject({ action: 'token_invalid', request_id: 'early-1', request_path: '/early/1', details: { reason: 'gateway' } })
  })

  it('a 401 whose handler recorded another action also gets token_invalid, unless the route says securityLog: false (README usage)', async () => {
    app = await buildApp({ table: table() })
    const login = async (request: FastifyRequest, reply: FastifyReply) => {
      await request.securityEvent('login_failure', { details: { reason: 'bad password' } })
      return reply.code(401).send({ error: 'invalid credentials' })
    }
    app.post('/login', login)
    app.post('/login-quiet', { config: { securityLog: false } }, login)
    expect((await app.inject({ method: 'POST', url: '/login' })).statusCode).toBe(401)
    await app.securityLog.flush()
    expect((await app.securityLog.query({})).items.map((i) => i.action).sort()).toEqual(['login_failure', 'token_invalid'])
    expect((await app.inject({ method: 'POST', url: '/login-quiet' })).statusCode).toBe(401)
    await app.securityLog.flush()
    expect((await app.securityLog.query({})).items.map((i) => i.action).sort()).toEqual(['login_failure', 'login_failure', 'token_invalid'])
  })

  it('a route with config.securityLog false is not auto-captured', async () => {
    app = await buildApp({ table: table() })
    routes(app)
    expect((await app.inject({ url: '/quiet' })).statusCode).toBe(401)
    await app.securityLog.flush()
    expect((await app.securityLog.query({})).total).toBe(0)
  })

  it('400 is not captured by default, and is recorded as input_validation_fail with validation: true', async () => {
    app = await buildApp({ table: table() })
    routes(app)
    expect((await app.inject({ method: 'POST', url: '/validated', payload: {} })).statusCode).toBe(400)
    await app.securityLog.flush()
    expect((await app.securityLog.query({})).total).toBe(0)
    await app.close()

    app = await buildApp({ table: table(), autoCapture: { validation: true } })
    routes(app)
    expect((await app.inject({ method: 'POST', url: '/validated', payload: {} })).statusCode).toBe(400)
    await app.securityLog.flush()
    const { items } = await app.securityLog.query({})
    expect(items.map((i) => [i.action, i.severity])).toEqual([['input_validation_fail', 'info']])
  })

  it('each status can be turned off, and autoCapture: false turns all off', async () => {
    app = await buildApp({ table: table(), autoCapture: { unauthorized: false, rateLimited: false } })
    routes(app)
    await app.inject({ url: '/private' })
    await app.inject({ url: '/admin' })
    await app.inject({ url: '/busy' })
    await app.securityLog.flush()
    expect((await app.securityLog.query({})).items.map((i) => i.action)).toEqual(['authz_denied'])
    await app.close()

    app = await buildApp({ table: table(), autoCapture: false })
    routes(app)
    await app.inject({ url: '/private' })
    await app.inject({ url: '/admin' })
    await app.securityLog.flush()
    expect((await app.securityLog.query({})).total).toBe(0)
  })

  it('rejects a non-boolean config.securityLog on a route at registration', async () => {
    app = await buildApp({ table: table() })
    expect(() => app!.get('/bad', { config: { securityLog: 'off' as never } }, async () => 'x')).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_SECURITY_LOG_INVALID_OPTION', message: expect.stringContaining('config.securityLog of GET /bad') }))
  })
})
