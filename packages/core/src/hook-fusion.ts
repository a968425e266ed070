import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { FST_OPSKIT_CORE_INVALID_HOOK } from './errors.js'

/**
 * A synchronous request hook of an opskit plugin. It may throw: the error goes to Fastify as a
 * hook's `done(err)` would (an `onRequest` error answers the request, an `onResponse` one is logged
 * and stops the later `onResponse` hooks).
 */
export type OpskitHook = (request: FastifyRequest, reply: FastifyReply) => void

/** The phases opskit plugins fuse. */
export type OpskitHookPhase = 'onRequest' | 'onResponse'

/** The handlers of the phases, run by one Fastify hook each. Made by core's `register()`. */
export interface FusedHooks {
  /** The instance core was registered on: only plugins registered on that very instance fuse. */
  readonly owner: FastifyInstance
  /** Run by core's own `onRequest` hook, after `resolveActor`, inside the request context. */
  readonly onRequest: OpskitHook[]
  /** Run by one `onResponse` hook, added where the first handler is added. */
  readonly onResponse: OpskitHook[]
}

const kFusedHooks = Symbol('opskit.core.fusedHooks')

/** Runs `hooks` in order, then `done`; the first throw ends the phase with that error. */
export function runFusedHooks(hooks: readonly OpskitHook[], request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  for (let i = 0; i < hooks.length; i++) {
    try {
      ;(hooks[i] as OpskitHook)(request, reply)
    } catch (err) {
      done(err as Error)
      return
    }
  }
  done()
}

/** Called by core's plugin: the instance's fused hooks (its `onRequest` hook runs `onRequest`). */
export function createFusedHooks(owner: FastifyInstance): FusedHooks {
  const hooks: FusedHooks = { owner, onRequest: [], onResponse: [] }
  owner.decorate(kFusedHooks, hooks)
  return hooks
}

/**
 * Adds an opskit plugin's request hook. With `@opskit/core` registered on this same instance (as
 * the `opskit` suite does, or an app registering the plugins side by side) the hook joins core's
 * one hook per phase: the `onRequest` handlers run in core's `onRequest` hook, right after the
 * actor is resolved, and the `onResponse` handlers in one `onResponse` hook added where the first
 * of them is, each phase in the order the handlers were added. Fastify then runs one hook per phase
 * instead of one per plugin. Anywhere else (core not registered, or registered in a parent scope,
 * so the plugin's hook must stay encapsulated) it is an ordinary `fastify.addHook(phase, …)`.
 */
export function addOpskitHook(fastify: FastifyInstance, phase: OpskitHookPhase, hook: OpskitHook): void {
  if (phase !== 'onRequest' && phase !== 'onResponse') throw new FST_OPSKIT_CORE_INVALID_HOOK(`phase must be 'onRequest' or 'onResponse', got ${String(phase)}`)
  if (typeof hook !== 'function') throw new FST_OPSKIT_CORE_INVALID_HOOK('expects a function (request, reply) => void')
  const fused = (fastify as FastifyInstance & { [kFusedHooks]?: FusedHooks })[kFusedHooks]
  if (fused !== undefined && fused.owner === fastify) {
    const list = fused[phase]
    if (phase === 'onResponse' && list.length === 0) {
      fastify.addHook('onResponse', function opskitOnResponse(request, reply, done) {
        runFusedHooks(list, request, reply, done)
      })
    }
    list.push(hook)
    return
  }
  fastify.addHook(phase, function opskitHook(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    try {
      hook(request, reply)
    } catch (err) {
      done(err as Error)
      return
    }
    done()
  })
}
