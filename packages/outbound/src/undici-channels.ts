import diagnosticsChannel from 'node:diagnostics_channel'
import { guarded } from './guard.js'
import { traceparentOf } from './propagation.js'
import type { CallObserver, CallTarget } from './call-observer.js'

/** The part of undici's request object its diagnostics channels publish (undici 5 to 7). */
interface UndiciRequest {
  origin: string | URL
  path: string
  method: string
  headers: string | string[] | unknown
  addHeader?(name: string, value: string): unknown
}

/** Whether a request already has header `name` (lower case); undici 7 keeps its headers as a flat array, 6 as one string. */
function hasHeader(request: UndiciRequest, name: string): boolean {
  const { headers } = request
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) {
      const header = headers[i]
      if (typeof header === 'string' ? header.length === name.length && header.toLowerCase() === name : String(header).toLowerCase() === name) return true
    }
    return false
  }
  return typeof headers === 'string' && ('\n' + headers.toLowerCase()).includes(`\n${name}:`)
}

/**
 * Observes every request made through undici, global `fetch` included (Node bundles undici and
 * its channels are process-wide, so the npm `undici` package is observed too): `create` starts a
 * call (and adds the propagated headers), `headers` gives the status, `trailers` ends it once the
 * body has been read, `error` ends it as failed; with `bodyPreview`, `bodyChunkSent` /
 * `bodyChunkReceived` (undici 7) give the start of each body. Returns the unsubscribe function.
 */
export function subscribeUndici(observer: CallObserver): () => void {
  // What the observer makes of each origin string, worked out once (an app talks to a handful); bounded.
  const targets = new Map<string, CallTarget>()
  const targetOf = (origin: string): CallTarget => {
    let target = targets.get(origin)
    if (target !== undefined) return target
    try {
      const url = new URL(origin)
      target = observer.targetOf({ protocol: url.protocol, hostname: url.hostname, port: url.port })
    } catch {
      target = null
    }
    if (targets.size >= 1000) targets.clear()
    targets.set(origin, target)
    return target
  }
  const onCreate = (message: unknown): void => {
    const request = (message as { request: UndiciRequest }).request
    const origin = request.origin
    const context = observer.start(request, targetOf(typeof origin === 'string' ? origin : String(origin)), request.method, request.path)
    if (context === null || typeof request.addHeader !== 'function') return
    // Added one by one, no pair list built per call (see propagatedHeaders()).
    if (!hasHeader(request, 'x-request-id')) request.addHeader('x-request-id', context.requestId)
    const traceparent = traceparentOf(context)
    if (traceparent !== undefined && !hasHeader(request, 'traceparent')) request.addHeader('traceparent', traceparent)
  }
  const onHeaders = (message: unknown): void => {
    const { request, response } = message as { request: object; response: { statusCode: number } }
    observer.response(request, response.statusCode)
  }
  const onTrailers = (message: unknown): void => {
    observer.finish((message as { request: object }).request)
  }
  const onError = (message: unknown): void => {
    const { request, error } = message as { request: object; error: unknown }
    observer.fail(request, error)
  }
  const subscriptions: [string, (message: unknown) => void][] = [
    ['undici:request:create', onCreate],
    ['undici:request:headers', onHeaders],
    ['undici:request:trailers', onTrailers],
    ['undici:request:error', onError],
  ]
  if (observer.previewing) {
    // Recent undici 7 releases (npm, and Node lines bundling them) publish body chunks; Node 20's undici 6 does not.
    subscriptions.push(
      ['undici:request:bodyChunkSent', (message) => observer.chunk((message as { request: object }).request, 'sent', (message as { chunk: unknown }).chunk)],
      ['undici:request:bodyChunkReceived', (message) => observer.chunk((message as { request: object }).request, 'received', (message as { chunk: unknown }).chunk)],
    )
  }
  const handlers = subscriptions.map(([name, fn]) => [name, guarded(fn)] as const)
  for (const [name, fn] of handlers) diagnosticsChannel.subscribe(name, fn)
  return () => {
    for (const [name, fn] of handlers) diagnosticsChannel.unsubscribe(name, fn)
  }
}
