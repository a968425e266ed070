import Fastify, { type FastifyInstance, type FastifyPluginCallback } from 'fastify'
import fp from 'fastify-plugin'
import { afterEach, describe, expect, it } from 'vitest'
import { addOpskitHook, getRequestContext, opskitCore, type OpskitHook, type OpskitHookPhase } from '../src/index.js'
import { hookNames as routeHookNames } from '../../../test-utils/server-routes.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

/** A plugin (fastify-plugin, like every opskit plugin) adding `hook` through addOpskitHook. */
function hookPlugin(name: string, phase: OpskitHookPhase, hook: OpskitHook): FastifyPluginCallback {
  return fp(
    (fastify, _opts, next) => {
      addOpskitHook(fastify, phase, hook)
      next()
    },
    { name },
  )
}

const hookNames = (instance: FastifyInstance, phase: string, path = '/x'): string[] => routeHookNames(instance, phase, path)

describe('addOpskitHook with @opskit/core on the same instance', () => {
  it('runs every plugin handler of a phase from one Fastify hook, in registration order, after an async resolveActor, inside the context', async () => {
    const seen: string[] = []
    app = Fastify()
    await app.register(opskitCore, {
      resolveActor: async (request) => ({ id: String(request.headers['x-user-id']) }),
    })
    await app.register(hookPlugin('a', 'onRequest', (request) => seen.push(`a:${request.actor?.id}:${getRequestContext()?.requestId === request.id}`)))
    await app.register(hookPlugin('b', 'onRequest', () => seen.push('b')))
    await app.register(hookPlugin('c', 'onResponse', (_request, reply) => seen.push(`c:${reply.statusCode}`)))
    await app.register(hookPlugin('d', 'onResponse', () => seen.push('d')))
    app.get('/x', async () => {
      seen.push('handler')
      return 'ok'
    })
    await app.ready()

    const res = await app.inject({ url: '/x', headers: { 'x-user-id': 'u-7' } })
    expect(res.statusCode).toBe(200)
    expect(seen).toEqual(['a:u-7:true', 'b', 'handler', 'c:200', 'd'])
    // one onRequest hook (core's) and one onResponse hook for the four handlers
    expect(hookNames(app, 'onRequest')).toEqual(['onRequest'])
    expect(hookNames(app, 'onResponse')).toEqual(['opskitOnResponse'])
  })

  it('an onRequest handler that throws fails the request with its status code and skips the later handlers', async () => {
    const seen: string[] = []
    app = Fastify()
    await app.register(opskitCore)
    await app.register(hookPlugin('a', 'onRequest', () => {
      throw Object.assign(new Error('nope'), { statusCode: 418 })
    }))
    await app.register(hookPlugin('b', 'onRequest', () => seen.push('b')))
    app.get('/x', async () => 'ok')

    const res = await app.inject('/x')
    expect(res.statusCode).toBe(418)
    expect(res.json()).toMatchObject({ message: 'nope', request_id: res.headers['x-request-id'] })
    expect(seen).toEqual([])
  })

  it('an onResponse handler that throws stops the later onResponse handlers, as a failing Fastify hook does', async () => {
    const seen: string[] = []
    app = Fastify({ logger: false })
    await app.register(opskitCore)
    await app.register(hookPlugin('a', 'onResponse', () => {
      seen.push('a')
      throw new Error('broken')
    }))
    await app.register(hookPlugin('b', 'onResponse', () => seen.push('b')))
    app.get('/x', async () => 'ok')

    expect((await app.inject('/x')).statusCode).toBe(200)
    expect(seen).toEqual(['a'])
  })
})

describe('addOpskitHook without core on the same instance: an ordinary Fastify hook', () => {
  it('without core, each handler is its own hook and runs as before', async () => {
    const seen: string[] = []
    app = Fastify()
    await app.register(hookPlugin('a', 'onRequest', () => seen.push('a')))
    await app.register(hookPlugin('b', 'onResponse', (_request, reply) => seen.push(`b:${reply.statusCode}`)))
    app.get('/x', async () => 'ok')
    await app.ready()

    expect((await app.inject('/x')).statusCode).toBe(200)
    expect(seen).toEqual(['a', 'b:200'])
    expect(hookNames(app, 'onRequest')).toEqual(['opskitHook'])
  })

  it('a plugin registered in a child scope under core keeps its hook encapsulated: routes outside the scope never run it', async () => {
    const seen: string[] = []
    app = Fastify()
    await app.register(opskitCore)
    await app.register(async (child) => {
      await child.register(hookPlugin('scoped', 'onRequest', (request) => seen.push(`req:${request.url}`)))
      await child.register(hookPlugin('scoped-response', 'onResponse', (request) => seen.push(`res:${request.url}`)))
      child.get('/inside', async () => 'in')
    })
    app.get('/outside', async () => 'out')

    await app.inject('/outside')
    await app.inject('/inside')
    expect(seen).toEqual(['req:/inside', 'res:/inside'])
  })

  it('fused or not, the handlers reach the same routes: ones an earlier plugin or child scope registered, and later ones', async () => {
    const reached: Record<string, string[]> = {}
    for (const mode of ['fused', 'plain']) {
      const seen: string[] = []
      const instance = Fastify()
      if (mode === 'fused') await instance.register(opskitCore)
      await instance.register(fp((f, _opts, next) => {
        f.get('/early', async () => 'e')
        next()
      }, { name: 'early-routes' }))
      await instance.register(async (child) => {
        child.get('/child', async () => 'c')
      })
      await instance.register(hookPlugin('a', 'onRequest', (request) => seen.push(`req ${request.url}`)))
      await instance.register(hookPlugin('b', 'onResponse', (request) => seen.push(`res ${request.url}`)))
      instance.get('/late', async () => 'l')
      for (const url of ['/early', '/child', '/late', '/missing']) await instance.inject(url)
      await instance.close()
      reached[mode] = seen
    }
    expect(reached.fused).toEqual(['req /early', 'res /early', 'req /child', 'res /child', 'req /late', 'res /late', 'req /missing', 'res /missing'])
    expect(reached.plain).toEqual(reached.fused)
  })

  it('refuses an unknown phase or a non-function', () => {
    app = Fastify()
    expect(() => addOpskitHook(app!, 'preHandler' as OpskitHookPhase, () => {})).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_CORE_INVALID_HOOK', message: expect.stringMatching(/phase/) }))
    expect(() => addOpskitHook(app!, 'onRequest', 'nope' as unknown as OpskitHook)).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_CORE_INVALID_HOOK', message: expect.stringMatching(/function/) }))
  })
})
