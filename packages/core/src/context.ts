import { AsyncLocalStorage } from 'node:async_hooks'
import type { FastifyRequest } from 'fastify'
import { FST_OPSKIT_CORE_NO_REQUEST_CONTEXT } from './errors.js'
import { sanitizeHeader } from './sanitize.js'
import { pathOf } from './url-path.js'
import type { RequestContext } from './types.js'

/**
 * The one AsyncLocalStorage every opskit package reads. `@opskit/core` is a peer dependency of
 * every plugin so that a process holds exactly one copy of it.
 */
export const requestContextStorage = new AsyncLocalStorage<RequestContext>()

/** The current request's context, or `undefined` outside a request. Never throws. */
export function getRequestContext(): RequestContext | undefined {
  return requestContextStorage.getStore()
}

/** The current request's context; throws when called outside a request. */
export function requireRequestContext(): RequestContext {
  const context = requestContextStorage.getStore()
  if (context === undefined) throw new FST_OPSKIT_CORE_NO_REQUEST_CONTEXT()
  return context
}

/**
 * Runs `fn` inside `context` (a context captured earlier with `getRequestContext()`), so that what
 * it logs or records belongs to that request: for work that reaches opskit outside the request's
 * async flow (a diagnostics-channel message, a queue callback). Returns what `fn` returns.
 */
export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return requestContextStorage.run(context, fn)
}

/**
 * Runs `fn` outside any request context (`getRequestContext()` is undefined inside), for work done
 * on behalf of no request from a callback that runs in some request's context, such as a client
 * socket's, which runs in the context of whichever request opened the connection.
 */
export function runOutsideRequestContext<T>(fn: () => T): T {
  return requestContextStorage.exit(fn)
}

/**
 * The context of a request as core builds it in `onRequest` (actor not yet resolved). Plugins use
 * it for a request core never saw, such as one rejected before `onRequest` ran.
 */
export function createRequestContext(request: FastifyRequest): RequestContext {
  return {
    requestId: request.id,
    actor: null,
    ip: request.ip,
    userAgent: sanitizeHeader(request.headers['user-agent']),
    method: request.method,
    url: pathOf(request.url),
    route: request.routeOptions.url,
  }
}

/**
 * The request's context: the one core built in `onRequest`, else (a request core never saw, such
 * as one answered by an `onRequest` hook that ran before core's) one built now with
 * `createRequestContext()` and the request's actor, kept on `request.opskitContext` so that every
 * later reader of this request gets the same object.
 */
export function contextOf(request: FastifyRequest): RequestContext {
  const context = request.opskitContext
  if (context !== null && context !== undefined) return context
  const built = createRequestContext(request)
  built.actor = request.actor ?? null
  request.opskitContext = built
  return built
}

/** What each context recorded (see `markRecorded`); weak, so a finished request leaves nothing. */
const recordedIn = new WeakMap<RequestContext, string | string[]>()

/**
 * Notes that code inside this request (or job) recorded `key` (by convention `'<package>:<what>'`,
 * e.g. `'audit:event'`, `'security-log:token_invalid'`), so a plugin's automatic record for the same
 * thing (audit's autoAudit, security-log's auto capture) can skip it.
 */
export function markRecorded(context: RequestContext, key: string): void {
  const seen = recordedIn.get(context)
  if (seen === undefined) recordedIn.set(context, key)
  else if (typeof seen === 'string') {
    if (seen !== key) recordedIn.set(context, [seen, key])
  } else if (!seen.includes(key)) seen.push(key)
}

/** True when `markRecorded(context, key)` ran for this context. `false` for no context. */
export function wasRecorded(context: RequestContext | null | undefined, key: string): boolean {
  if (context === null || context === undefined) return false
  const seen = recordedIn.get(context)
  return seen === key || (seen !== undefined && typeof seen !== 'string' && seen.includes(key))
}
