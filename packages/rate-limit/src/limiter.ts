import type { FastifyBaseLogger, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { sanitizeHeader } from '@opskit/core'
import { formatSeconds } from './duration.js'
import { ipKey } from './ip-key.js'
import type { AllowListFunction, RouteLimits } from './options.js'
import type { CounterState, CounterStore } from './store.js'

/** What `fastify.metrics.counter()` returns, as far as this plugin needs it. */
export interface CounterLike {
  inc(labels?: Record<string, string>, value?: number): void
}

/** State shared by every route of one plugin instance (never module-level). */
export interface LimiterState {
  readonly store: CounterStore
  readonly failOpen: boolean
  readonly allowList: Set<string> | AllowListFunction | undefined
  readonly ipv6Subnet: number
  readonly log: FastifyBaseLogger
  /** True from a store failure until the next success: one ERROR line per outage. */
  storeDown: boolean
  /** `rate_limit_rejections_total{route}`, set in onReady when `fastify.metrics` exists. */
  rejections: CounterLike | null
  /** `rate_limit_store_errors_total`, set in onReady when `fastify.metrics` exists. */
  storeErrors: CounterLike | null
  /** True when `@opskit/security-log` is registered (`request.securityEvent`). */
  securityLog: boolean
}

type SecurityEventFn = (action: string, opts: { details: Record<string, unknown> }) => unknown

const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * The `onRequest` hook of one route: key by actor (`user:<id>`, its role's tier) or client IP
 * (`anonymous` tier), count, set the `x-ratelimit-*` headers, answer 429 past the limit.
 * Callback style; with the memory store the whole check runs synchronously.
 *
 * @param namespace prepended to the key for routes with their own limits ('' for the plugin's).
 * @param route the route template, for the metric label, log and security event.
 */
export function createRouteLimiter(state: LimiterState, limits: RouteLimits, namespace: string, route: string) {
  const { store, allowList, ipv6Subnet } = state
  const { max, timeWindow, tiers } = limits
  const anonymousLimit = tiers?.get('anonymous') ?? max
  const syncStore = store.incrSync === undefined ? undefined : store
  const allowSet = allowList instanceof Set ? allowList : undefined
  const allowFn = typeof allowList === 'function' ? allowList : undefined

  function finish(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction, counter: CounterState, limit: number, user: boolean): void {
    const current = counter.current
    const reset = Math.max(0, Math.ceil(counter.ttl / 1000))
    reply.header('x-ratelimit-limit', limit)
    if (current <= limit) {
      reply.header('x-ratelimit-remaining', limit - current)
      reply.header('x-ratelimit-reset', reset)
      done()
      return
    }
    reject(request, reply, limit, Math.max(reset, 1), user)
  }

  function reject(request: FastifyRequest, reply: FastifyReply, limit: number, retryAfter: number, user: boolean): void {
    reply.header('x-ratelimit-remaining', 0)
    reply.header('x-ratelimit-reset', retryAfter)
    reply.header('retry-after', retryAfter)
    const keyKind = user ? 'user' : 'ip'
    request.log.warn(
      { route, limit, key_kind: keyKind },
      `Rate limit hit on ${request.method} ${sanitizeHeader(request.opskitContext.url)} from ${sanitizeHeader(request.ip)}`,
    )
    state.rejections?.inc({ route })
    if (state.securityLog) recordSecurityEvent(request, { route, limit, key_kind: keyKind, window_ms: timeWindow })
    reply
      .code(429)
      .header('content-type', JSON_TYPE)
      .send(JSON.stringify({
        statusCode: 429,
        error: 'Too Many Requests',
        message: `Rate limit exceeded, retry in ${formatSeconds(retryAfter)}`,
        request_id: request.id,
      }))
  }

  function storeFailed(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction, err: Error): void {
    state.storeErrors?.inc()
    if (!state.storeDown) {
      state.storeDown = true
      request.log.error(
        { err, store: store.kind, fail_open: state.failOpen },
        `Rate limit store unavailable, ${state.failOpen ? 'letting requests through (failOpen)' : 'answering 503 (failOpen: false)'} until it recovers`,
      )
    }
    if (state.failOpen) {
      done()
      return
    }
    reply
      .code(503)
      .header('content-type', JSON_TYPE)
      .send(JSON.stringify({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Rate limit store unavailable',
        request_id: request.id,
      }))
  }

  function count(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction, key: string, limit: number, user: boolean): void {
    const storeKey = namespace === '' ? key : namespace + key
    if (syncStore !== undefined) {
      finish(request, reply, done, syncStore.incrSync!(storeKey, timeWindow), limit, user)
      return
    }
    store.incr(storeKey, timeWindow, (err, counter) => {
      if (err !== null || counter === null) {
        storeFailed(request, reply, done, err ?? new Error('empty store answer'))
        return
      }
      if (state.storeDown) {
        state.storeDown = false
        state.log.info({ store: store.kind }, 'Rate limit store recovered')
      }
      finish(request, reply, done, counter, limit, user)
    })
  }

  return function rateLimitOnRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const actor = request.actor
    let key: string
    let limit: number
    const user = actor !== null && actor !== undefined
    if (user) {
      key = `user:${actor.id}`
      const role = actor.role
      limit = role === undefined || tiers === undefined ? max : tiers.get(role) ?? max
    } else {
      key = ipKey(request.ip, ipv6Subnet)
      limit = anonymousLimit
    }

    if (allowSet !== undefined && (allowSet.has(key) || allowSet.has(request.ip))) {
      done()
      return
    }
    if (allowFn !== undefined) {
      let allowed: boolean | Promise<boolean>
      try {
        allowed = allowFn(request, key)
      } catch (err) {
        done(err as Error)
        return
      }
      if (typeof allowed === 'object' && allowed !== null && typeof allowed.then === 'function') {
        allowed.then(
          (yes) => (yes ? done() : count(request, reply, done, key, limit, user)),
          (err: Error) => done(err),
        )
        return
      }
      if (allowed) {
        done()
        return
      }
    }
    count(request, reply, done, key, limit, user)
  }
}

function recordSecurityEvent(request: FastifyRequest, details: Record<string, unknown>): void {
  const securityEvent = (request as unknown as { securityEvent?: SecurityEventFn }).securityEvent
  if (typeof securityEvent !== 'function') return
  try {
    const result = securityEvent.call(request, 'rate_limit_hit', { details })
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).catch === 'function') {
      ;(result as Promise<unknown>).catch((err: unknown) => request.log.error({ err }, 'Recording the rate_limit_hit security event failed'))
    }
  } catch (err) {
    request.log.error({ err }, 'Recording the rate_limit_hit security event failed')
  }
}
