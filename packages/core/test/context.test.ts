import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { contextOf, getRequestContext, markRecorded, opskitCore, requestIdGenerator, requireRequestContext, wasRecorded, type Actor, type RequestContext } from '@opskit/core'

let app: FastifyInstance
afterEach(() => app?.close())

const tick = () => new Promise((resolve) => setTimeout(resolve, 1))

// A "service layer" three awaits away from the handler, as users write them.
async function repository() {
  await tick()
  return getRequestContext()
}
async function service() {
  await tick()
  await Promise.resolve()
  return repository()
}

async function build(resolveActor?: (req: import('fastify').FastifyRequest) => Actor | null | Promise<Actor | null>) {
  app = Fastify({ genReqId: requestIdGenerator() })
  await app.register(opskitCore, resolveActor ? { resolveActor } : {})
  return app
}

describe('getRequestContext', () => {
  it('is undefined outside a request and requireRequestContext throws there', () => {
    expect(getRequestContext()).toBeUndefined()
    expect(() => requireRequestContext()).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_CORE_NO_REQUEST_CONTEXT', message: expect.stringMatching(/outside a request/) }))
  })

  it('holds id, actor, ip, user agent, method, path and route several awaits deep after the body is parsed', async () => {
    await build((req) => (req.headers['x-user-id'] ? { id: String(req.headers['x-user-id']), role: 'admin', tenantId: 't1' } : null))
    app.post('/bookings/:id', async () => {
      await tick()
      const ctx = await service()
      return { ctx }
    })
    const res = await app.inject({
      method: 'POST',
      url: '/bookings/42?expand=1',
      payload: { big: 'x'.repeat(100_000) },
      headers: { 'x-request-id': 'ctx-1', 'x-user-id': 'u-7', 'user-agent': 'tests/1.0' },
    })
    expect(res.json().ctx).toEqual({
      requestId: 'ctx-1',
      actor: { id: 'u-7', role: 'admin', tenantId: 't1' },
      ip: '127.0.0.1',
      userAgent: 'tests/1.0',
      method: 'POST',
      url: '/bookings/42',
      route: '/bookings/:id',
    })
  })

  it('keeps concurrent requests apart', async () => {
    await build((req) => ({ id: String(req.headers['x-user-id']) }))
    app.get('/who', async () => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20))
      const ctx = await service()
      return { id: ctx?.actor?.id, requestId: ctx?.requestId }
    })
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => app.inject({ url: '/who', headers: { 'x-user-id': `user-${i}`, 'x-request-id': `r-${i}` } })),
    )
    results.forEach((res, i) => expect(res.json()).toEqual({ id: `user-${i}`, requestId: `r-${i}` }))
  })

  it('is visible to hooks of plugins registered after core, with the actor already resolved (async resolveActor)', async () => {
    await build(async (req) => {
      await tick()
      return req.headers.authorization === 'Bearer good' ? { id: 'u1', role: 'member' } : null
    })
    let seenInHook: unknown
    app.addHook('onRequest', async (request) => {
      seenInHook = { actor: request.actor, ctxActor: getRequestContext()?.actor }
    })
    app.get('/x', async (request) => ({ actor: request.actor }))
    const res = await app.inject({ url: '/x', headers: { authorization: 'Bearer good' } })
    expect(res.json()).toEqual({ actor: { id: 'u1', role: 'member' } })
    expect(seenInHook).toEqual({ actor: { id: 'u1', role: 'member' }, ctxActor: { id: 'u1', role: 'member' } })
  })

  it('request.setActor updates the context that services see', async () => {
    await build()
    app.post('/login', async (request) => {
      expect(request.actor).toBeNull()
      request.setActor({ id: 'new-user', email: 'new@example.com' })
      return { ctx: (await service())?.actor }
    })
    const res = await app.inject({ method: 'POST', url: '/login', payload: {} })
    expect(res.json().ctx).toEqual({ id: 'new-user', email: 'new@example.com' })
  })

  it('a throwing resolveActor fails the request with its status code and request_id', async () => {
    await build(() => {
      throw Object.assign(new Error('bad token'), { statusCode: 401 })
    })
    app.get('/x', async () => 'no')
    const res = await app.inject({ url: '/x', headers: { 'x-request-id': 'auth-1' } })
    expect(res.statusCode).toBe(401)
    expect(res.json()).toMatchObject({ message: 'bad token', request_id: 'auth-1' })
  })

  it('route is undefined for a request that matches no route', async () => {
    await build()
    let ctx: ReturnType<typeof getRequestContext>
    app.setNotFoundHandler(async (_request, reply) => {
      ctx = getRequestContext()
      return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'nope' })
    })
    await app.inject({ url: '/missing?q=1' })
    expect(ctx?.route).toBeUndefined()
    expect(ctx?.url).toBe('/missing')
  })

  it('sanitizes a hostile user agent in the context', async () => {
    await build()
    app.get('/ua', async () => ({ ua: getRequestContext()?.userAgent }))
    const res = await app.inject({ url: '/ua', headers: { 'user-agent': 'x'.repeat(5000) } })
    expect(res.json().ua).toHaveLength(512)
  })
})

describe('contextOf(request)', () => {
  it('is the context getRequestContext() gives inside the request', async () => {
    await build(() => ({ id: 'u1' }))
    app.get('/same', async (request) => ({ same: contextOf(request) === getRequestContext(), actor: contextOf(request).actor }))
    expect((await app.inject({ url: '/same' })).json()).toEqual({ same: true, actor: { id: 'u1' } })
  })

  it('builds one context for a request core never saw (answered by an onRequest hook that ran first), and keeps it', async () => {
    app = Fastify({ genReqId: requestIdGenerator() })
    const seen: { before: RequestContext | null; first?: RequestContext; again?: RequestContext } = { before: null }
    // Registered before core: its answer skips core's onRequest.
    app.addHook('onRequest', async (request, reply) => {
      seen.before = request.opskitContext ?? null
      return reply.code(401).send({ error: 'no' })
    })
    await app.register(opskitCore)
    app.addHook('onResponse', async (request) => {
      seen.first = contextOf(request)
      seen.again = contextOf(request)
    })
    app.get('/orders/:id', async () => 'unreachable')
    const res = await app.inject({ url: '/orders/7?q=1', headers: { 'x-request-id': 'early-1', 'user-agent': 'ua/1' } })
    expect(res.statusCode).toBe(401)
    expect(seen.before).toBeNull()
    expect(seen.first).toMatchObject({ requestId: 'early-1', actor: null, ip: '127.0.0.1', userAgent: 'ua/1', method: 'GET', url: '/orders/7', route: '/orders/:id' })
    expect(seen.again).toBe(seen.first)
  })
})

describe('markRecorded / wasRecorded', () => {
  it('remember keys per context: another key or another request does not count', async () => {
    await build()
    const contexts: RequestContext[] = []
    app.get('/mark', async (request) => {
      const context = contextOf(request)
      const before = wasRecorded(context, 'audit:event')
      markRecorded(context, 'audit:event')
      markRecorded(context, 'security-log:token_invalid')
      markRecorded(context, 'audit:event')
      contexts.push(context)
      return { before, audit: wasRecorded(context, 'audit:event'), seclog: wasRecorded(context, 'security-log:token_invalid'), other: wasRecorded(context, 'security-log:authz_denied') }
    })
    app.get('/plain', async (request) => {
      contexts.push(contextOf(request))
      return { audit: wasRecorded(getRequestContext(), 'audit:event') }
    })
    expect((await app.inject({ url: '/mark' })).json()).toEqual({ before: false, audit: true, seclog: true, other: false })
    expect((await app.inject({ url: '/plain' })).json()).toEqual({ audit: false })
    expect(wasRecorded(contexts[0], 'audit:event')).toBe(true)
    expect(wasRecorded(null, 'audit:event')).toBe(false)
    expect(wasRecorded(undefined, 'audit:event')).toBe(false)
  })
})
