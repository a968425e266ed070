import type { FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { createRequestContext, requestContextStorage } from './context.js'
import { addRequestIdToErrors } from './error-response.js'
import { createFusedHooks, runFusedHooks } from './hook-fusion.js'
import { resolveOptions, type ResolvedCoreOptions } from './options.js'
import { addLiveInstance, attachJobObservers, JobObserverSet, type JobObservers } from './job.js'
import { applyTraceContext, loadOtelApi, type OtelTraceApi } from './trace-context.js'
import type { Actor, OpskitCoreOptions, RequestContext, ResolveActor } from './types.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The actor `resolveActor` (or `setActor`) set for this request; `null` when anonymous. */
    actor: Actor | null
    /** Sets (or clears) the actor; every opskit plugin sees it from then on. */
    setActor(actor: Actor | null): void
    /**
     * The request context that `getRequestContext()` returns inside this request; `null` until
     * core's `onRequest` hook ran (read it through `contextOf(request)`). Don't replace it.
     */
    opskitContext: RequestContext | null
  }
  interface FastifyInstance {
    /** Observers of the jobs (`runJob()`) attributed to this instance; `@opskit/logging` and `@opskit/metrics` add theirs. */
    opskitJobs: JobObservers
  }
}

function setActor(this: FastifyRequest, actor: Actor | null): void {
  this.actor = actor ?? null
  if (this.opskitContext !== null) this.opskitContext.actor = this.actor
}

const plugin: FastifyPluginCallback<OpskitCoreOptions> = (fastify, opts, next) => {
  let options: ResolvedCoreOptions
  try {
    options = resolveOptions(opts)
  } catch (err) {
    next(err as Error)
    return
  }
  const { requestIdHeader, resolveActor } = options
  let otel: OtelTraceApi | undefined

  fastify.decorateRequest('actor', null)
  fastify.decorateRequest('opskitContext', null)
  fastify.decorateRequest('setActor', setActor)

  // Jobs started inside this instance's requests are observed by this instance's plugins only; a
  // job started outside any request goes to every instance not closed yet.
  const jobObservers = new JobObserverSet()
  const ownObservers: readonly JobObserverSet[] = [jobObservers]
  fastify.decorate('opskitJobs', jobObservers)
  const removeLiveInstance = addLiveInstance(jobObservers)
  // The other opskit plugins registered on this instance add their request hooks here
  // (addOpskitHook): one Fastify hook per phase instead of one per plugin.
  const fused = createFusedHooks(fastify)
  const fusedOnRequest = fused.onRequest
  fastify.addHook('onClose', (_instance, done) => {
    removeLiveInstance()
    done()
  })

  // The fused handlers of the other opskit plugins, after the actor is resolved, inside the context.
  function finishOnRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (fusedOnRequest.length === 0) done()
    else runFusedHooks(fusedOnRequest, request, reply, done)
  }

  // Runs inside the request's context; a named function and `run(store, fn, ...args)` so no
  // closure is made per request.
  function runResolveActor(resolve: ResolveActor, request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    let result: ReturnType<ResolveActor>
    try {
      result = resolve(request)
    } catch (err) {
      done(err as Error)
      return
    }
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
      ;(result as Promise<Actor | null | undefined>).then(
        (actor) => {
          request.setActor(actor ?? null)
          finishOnRequest(request, reply, done)
        },
        (err: Error) => done(err),
      )
      return
    }
    request.setActor((result as Actor | null | undefined) ?? null)
    finishOnRequest(request, reply, done)
  }

  function onRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const context = createRequestContext(request)
    if (otel !== undefined || request.headers.traceparent !== undefined) applyTraceContext(context, request, otel)
    attachJobObservers(context, ownObservers)
    request.opskitContext = context
    reply.header(requestIdHeader, request.id)
    if (resolveActor === undefined) requestContextStorage.run(context, finishOnRequest, request, reply, done)
    else requestContextStorage.run(context, runResolveActor, resolveActor, request, reply, done)
  }

  // Body parsing runs outside the async flow that onRequest started, so the context is entered
  // again before validation: handlers, services and the data layer all see it.
  function preValidation(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const context = request.opskitContext
    if (context === null || requestContextStorage.getStore() === context) done()
    else requestContextStorage.run(context, done)
  }

  fastify.addHook('onRequest', onRequest)
  fastify.addHook('preValidation', preValidation)
  fastify.addHook('onSend', addRequestIdToErrors)
  // @opentelemetry/api is an optional peer: imported once, before the first request.
  loadOtelApi().then((api) => {
    otel = api
    next()
  }, next)
}

/** The shared request context: request id header, actor, `getRequestContext()`, `request_id` in error bodies. */
export const opskitCore = fp(plugin, { fastify: '5.x', name: '@opskit/core' })
export default opskitCore
