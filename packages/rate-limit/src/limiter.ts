import type { FastifyBaseLogger, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { contextOf, sanitizeHeader } from '@opskit/core'
import { policyItem, stateItem } from './draft-headers.js'
import { formatSeconds } from './duration.js'
import { FST_OPSKIT_RATE_LIMIT_STORE_NO_RESULT } from './errors.js'
import { ipKey } from './ip-key.js'
import type { AllowListFunction, Policy } from './options.js'
import type { CounterStore, PolicyResult } from './store.js'
import type { MetricsApi } from '@opskit/metrics'

/** What `fastify.metrics.counter()` returns, as far as this plugin needs it. */
export type CounterLike = Pick<ReturnType<MetricsApi['counter']>, 'inc'>

/** State shared by every route of one plugin instance (never module-level). */
export interface LimiterState {
  readonly store: CounterStore
  readonly failOpen: boolean
  readonly allowList: Set<string> | AllowListFunction | undefined
  readonly ipv6Subnet: number
  readonly log: FastifyBaseLogger
  /** Which fields limited responses carry. */
  readonly headers: 'x-ratelimit' | 'draft' | 'both'
  /** Never reject; log, count and record what would have been rejected as shadow. */
  readonly shadow: boolean
  /** The clock handed to the store (ms since the epoch). */
  readonly now: () => number
  /** True from a store failure until the next success: one ERROR line per outage. */
  storeDown: boolean
  /** `rate_limit_rejections_total{route}`, set in onReady when `fastify.metrics` exists. */
  rejections: CounterLike | null
  /** `rate_limit_shadow_rejections_total{route}`, set in onReady when `fastify.metrics` exists and `shadow` is on. */
  shadowRejections: CounterLike | null
  /** `rate_limit_store_errors_total`, set in onReady when `fastify.metrics` exists. */
  storeErrors: CounterLike | null
  /** True when `@opskit/security-log` is registered (`request.securityEvent`). */
  securityLog: boolean
}

type SecurityEventFn = (action: string, opts: { details: Record<string, unknown> }) => unknown

const JSON_TYPE = 'application/json; charset=utf-8'
/** The policy name of a limit that no tier gave (`max`). */
const DEFAULT_POLICY = 'default'

function newResults(count: number): PolicyResult[] {
  return Array.from({ length: count }, () => ({ exhausted: false, remaining: 0, resetMs: 0 }))
}

function seconds(ms: number): number {
  return ms <= 0 ? 0 : Math.ceil(ms / 1000)
}

/**
 * The `onRequest` hook of one route: key by actor (`user:<id>`, its role's tier) or client IP
 * (`anonymous` tier), count against each of the route's policies, set the rate-limit headers,
 * answer 429 when any policy is exhausted (or, in shadow mode, only log, count and record it).
 * Callback style; with a memory store the whole check runs synchronously.
 *
 * @param route the route template, for the metric label, log and security event.
 */
export function createRouteLimiter(state: LimiterState, policies: readonly Policy[], route: string) {
  const { store, allowList, ipv6Subnet, shadow, now } = state
  const count = policies.length
  const windows = policies.map((p) => p.timeWindow)
  const xHeaders = state.headers !== 'draft'
  const draftHeaders = state.headers !== 'x-ratelimit'
  const syncStore = store.hitSync === undefined ? undefined : store
  const allowSet = allowList instanceof Set ? allowList : undefined
  const allowFn = typeof allowList === 'function' ? allowList : undefined
  // Reused by the synchronous (memory) path: nothing else runs between filling and reading them.
  const syncKeys: string[] = new Array<string>(count)
  const syncLimits: number[] = new Array<number>(count)
  const syncNames: string[] = new Array<string>(count)
  const syncResults = newResults(count)
  // `"name";q=…;w=…` by policy and name: built once per (policy, tier) seen.
  const policyItems = policies.map(() => new Map<string, string>())

  // What an anonymous request gets from each policy, worked out once.
  const anonymousLimits = policies.map((p) => p.tiers?.get('anonymous') ?? p.max)
  const anonymousNames = policies.map((p) => p.name ?? (p.tiers?.has('anonymous') === true ? 'anonymous' : DEFAULT_POLICY))
  // The clock only matters to the sliding window (the fixed one runs on the store's own clock).
  const clocked = store.algorithm === 'sliding'

  /** The limit and policy name of policy `k` for this actor, into `limits[k]` / `names[k]`. */
  function limitFor(k: number, role: string | undefined, user: boolean, limits: number[], names: string[]): void {
    if (!user) {
      limits[k] = anonymousLimits[k]!
      names[k] = anonymousNames[k]!
      return
    }
    const policy = policies[k]!
    const tierLimit = role === undefined || policy.tiers === undefined ? undefined : policy.tiers.get(role)
    if (tierLimit === undefined) {
      limits[k] = policy.max
      names[k] = policy.name ?? DEFAULT_POLICY
    } else {
      limits[k] = tierLimit
      names[k] = policy.name ?? role!
    }
  }

  function policyHeaderItem(k: number, name: string, limit: number): string {
    const cache = policyItems[k]!
    const key = `${name}\u0000${limit}`
    let item = cache.get(key)
    if (item === undefined) {
      item = policyItem(name, limit, windows[k]!)
      cache.set(key, item)
    }
    return item
  }

  function finish(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction, results: PolicyResult[], limits: number[], names: string[], user: boolean): void {
    // The policy the x-ratelimit-* fields describe: past a limit, the exhausted one that lasts
    // longest; otherwise the one with the fewest requests left (the longer reset on a tie).
    let chosen = 0
    let rejected = results[0]!.exhausted
    for (let k = 1; k < count; k++) {
      const r = results[k]!
      const c = results[chosen]!
      if (r.exhausted) {
        if (!rejected || r.resetMs > c.resetMs) chosen = k
        rejected = true
      } else if (!rejected && (r.remaining < c.remaining || (r.remaining === c.remaining && r.resetMs > c.resetMs))) {
        chosen = k
      }
    }
    const result = results[chosen]!
    const limit = limits[chosen]!
    const reset = rejected ? Math.max(seconds(result.resetMs), 1) : seconds(result.resetMs)
    if (xHeaders) {
      reply.header('x-ratelimit-limit', limit)
      reply.header('x-ratelimit-remaining', result.remaining)
      reply.header('x-ratelimit-reset', reset)
    }
    if (draftHeaders) {
      if (count === 1) {
        reply.header('ratelimit-policy', policyHeaderItem(0, names[0]!, limit))
        reply.header('ratelimit', stateItem(names[0]!, result.remaining, reset))
      } else {
        let policy = ''
        let current = ''
        for (let k = 0; k < count; k++) {
          const r = results[k]!
          const sep = k === 0 ? '' : ', '
          policy += sep + policyHeaderItem(k, names[k]!, limits[k]!)
          current += sep + stateItem(names[k]!, r.remaining, r.exhausted ? Math.max(seconds(r.resetMs), 1) : seconds(r.resetMs))
        }
        reply.header('ratelimit-policy', policy)
        reply.header('ratelimit', current)
      }
    }
    if (!rejected) {
      done()
      return
    }
    const name = names[chosen]!
    if (shadow) {
      hit(request, limit, name, windows[chosen]!, user, true)
      done()
      return
    }
    hit(request, limit, name, windows[chosen]!, user, false)
    reply.header('retry-after', reset)
    reply
      .code(429)
      .header('content-type', JSON_TYPE)
      .send(JSON.stringify({
        statusCode: 429,
        error: 'Too Many Requests',
        message: `Rate limit exceeded, retry in ${formatSeconds(reset)}`,
        request_id: request.id,
      }))
  }

  /** What a rejection does besides the 429: the WARN line, the counter, the security event. */
  function hit(request: FastifyRequest, limit: number, policy: string, windowMs: number, user: boolean, isShadow: boolean): void {
    const keyKind = user ? 'user' : 'ip'
    const message = `Rate limit hit on ${request.method} ${sanitizeHeader(contextOf(request).url)} from ${sanitizeHeader(request.ip)}`
    if (isShadow) {
      request.log.warn({ route, limit, key_kind: keyKind, policy, shadow: true }, message)
      state.shadowRejections?.inc({ route })
    } else {
      request.log.warn({ route, limit, key_kind: keyKind, policy }, message)
      state.rejections?.inc({ route })
    }
    if (state.securityLog) {
      const details: Record<string, unknown> = { route, limit, key_kind: keyKind, window_ms: windowMs, policy }
      if (isShadow) details.shadow = true
      recordSecurityEvent(request, details)
    }
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

  function countRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction, key: string, role: string | undefined, user: boolean): void {
    if (syncStore !== undefined) {
      for (let k = 0; k < count; k++) {
        syncKeys[k] = policies[k]!.namespace + key
        limitFor(k, role, user, syncLimits, syncNames)
      }
      syncStore.hitSync!(syncKeys, windows, syncLimits, clocked ? now() : 0, syncResults)
      finish(request, reply, done, syncResults, syncLimits, syncNames, user)
      return
    }
    const keys = new Array<string>(count)
    const limits = new Array<number>(count)
    const names = new Array<string>(count)
    for (let k = 0; k < count; k++) {
      keys[k] = policies[k]!.namespace + key
      limitFor(k, role, user, limits, names)
    }
    store.hit(keys, windows, limits, clocked ? now() : 0, (err, results) => {
      if (err !== null || results === null) {
        storeFailed(request, reply, done, err ?? new FST_OPSKIT_RATE_LIMIT_STORE_NO_RESULT(store.kind))
        return
      }
      if (state.storeDown) {
        state.storeDown = false
        state.log.info({ store: store.kind }, 'Rate limit store recovered')
      }
      finish(request, reply, done, results, limits, names, user)
    })
  }

  return function rateLimitOnRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const actor = request.actor
    const user = actor !== null && actor !== undefined
    const key = user ? `user:${actor.id}` : ipKey(request.ip, ipv6Subnet)
    const role = user ? actor.role : undefined

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
          (yes) => (yes ? done() : countRequest(request, reply, done, key, role, user)),
          (err: Error) => done(err),
        )
        return
      }
      if (allowed) {
        done()
        return
      }
    }
    countRequest(request, reply, done, key, role, user)
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
