import diagnosticsChannel from 'node:diagnostics_channel'
import { guarded } from './guard.js'
import type { CallObserver } from './call-observer.js'

/** The part of undici's request object its diagnostics channels publish (undici 5 to 7). */
interface UndiciRequest {
  origin: string | URL
  path: string
  method: string
  headers: string | string[] | unknown
  addHeader?(name: string, value: string): unknown
}

/** The names of the headers a request already has, lower-cased (undici 6 keeps them as one string, 7 as a flat array). */
function headerNames(request: UndiciRequest): string {
  const { headers } = request
  if (Array.isArray(headers)) {
    let names = '\n'
    for (let i = 0; i < headers.length; i += 2) names += String(headers[i]).toLowerCase() + ':\n'
    return names
  }
  return typeof headers === 'string' ? '\n' + headers.toLowerCase() : ''
}

/**
 * Observes every request made through undici, global `fetch` included (Node bundles undici and
 * its channels are process-wide, so the npm `undici` package is observed too): `create` starts a
 * call (and adds the propagated headers), `headers` gives the status, `trailers` ends it once the
 * body has been read, `error` ends it as failed; with `bodyPreview`, `bodyChunkSent` /
 * `bodyChunkReceived` (undici 7) give the start of each body. Returns the unsubscribe function.
 */
export function subscribeUndici(observer: CallObserver): () => void {
  // Origins parsed once each (an app talks to a handful of them); bounded.
  const origins = new Map<string, { protocol: string; hostname: string; port: string } | null>()
  const parse = (origin: string): { protocol: string; hostname: string; port: string } | null => {
    let parsed = origins.get(origin)
    if (parsed !== undefined) return parsed
    try {
      const url = new URL(origin)
      parsed = { protocol: url.protocol, hostname: url.hostname, port: url.port }
    } catch {
      parsed = null
    }
    if (origins.size < 1000) origins.set(origin, parsed)
    return parsed
  }
  const onCreate = (message: unknown): void => {
    const request = (message as { request: UndiciRequest }).request
    const origin = parse(String(request.origin))
    if (origin === null) return
    const headers = observer.start(request, { protocol: origin.protocol, hostname: origin.hostname, port: origin.port, method: request.method, path: request.path })
    if (headers === null || typeof request.addHeader !== 'function') return
    const present = headerNames(request)
    for (const [name, value] of headers) if (!present.includes(`\n${name}:`)) request.addHeader(name, value)
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
