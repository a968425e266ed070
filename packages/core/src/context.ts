import { AsyncLocalStorage } from 'node:async_hooks'
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
  if (context === undefined) throw new Error('@opskit/core: requireRequestContext() called outside a request')
  return context
}
