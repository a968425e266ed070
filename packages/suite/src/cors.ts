import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fastifyCors, { type FastifyCorsOptions } from '@fastify/cors'
import fp from 'fastify-plugin'

type CorsHook = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void

/**
 * `@fastify/cors`, applied only to requests that carry an `Origin` header. Browsers send `Origin`
 * on every cross-origin request (and every preflight), so a request without one needs no CORS
 * headers: it gets only `Vary: Origin` (so a shared cache never serves it to a cross-origin
 * request) instead of the whole CORS handler and an `access-control-expose-headers` header on
 * every API response. Requests with `Origin` get exactly what `@fastify/cors` does.
 */
const originOnlyCorsPlugin: FastifyPluginCallback<FastifyCorsOptions> = (fastify, opts, done) => {
  const hookName = opts.hook ?? 'onRequest'
  const wrapHook = (handler: CorsHook): CorsHook =>
    function corsWhenOrigin(request, reply, next) {
      if (request.headers.origin === undefined) {
        const vary = reply.getHeader('vary')
        if (vary === undefined) reply.header('vary', 'Origin')
        else if (!/(^|,)\s*origin\s*(,|$)/i.test(String(vary))) reply.header('vary', `${String(vary)}, Origin`)
        next()
        return
      }
      handler.call(this, request, reply, next)
    }
  // @fastify/cors registers one hook: hand it an instance whose addHook wraps that hook.
  const instance = new Proxy(fastify, {
    get(target, property, receiver) {
      if (property === 'addHook') {
        return (name: string, handler: CorsHook) =>
          target.addHook(name as 'onRequest', name === hookName && handler.length === 3 ? wrapHook(handler) : handler)
      }
      const value = Reflect.get(target, property, receiver) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  }) as FastifyInstance
  ;(fastifyCors as unknown as FastifyPluginCallback<FastifyCorsOptions>)(instance, opts, done)
}

/** Registered under `@fastify/cors`'s name, so `fastify.hasPlugin('@fastify/cors')` holds. */
export const originOnlyCors = fp(originOnlyCorsPlugin, { fastify: '5.x', name: '@fastify/cors' })
