import diagnosticsChannel from 'node:diagnostics_channel'
import type { ClientRequest, IncomingMessage } from 'node:http'
import { guarded } from './guard.js'
import { propagatedHeaders } from './propagation.js'
import type { CallObserver, CallOrigin } from './call-observer.js'

function originOf(request: ClientRequest): CallOrigin {
  // ClientRequest keeps no public port: the Host header it built (`host[:port]`) says which.
  const hostHeader = request.getHeader('host')
  let port = ''
  if (typeof hostHeader === 'string') {
    const match = /:(\d{1,5})$/.exec(hostHeader)
    if (match !== null) port = match[1] as string
  }
  return { protocol: request.protocol, hostname: String(request.host), port }
}

/**
 * Observes `node:http` / `node:https` client requests through Node's `http.client.*` channels:
 * `http.client.request.created` (newer Node lines; the headers are not yet sent, so the propagated
 * ones are added there) or else `http.client.request.start` starts a call, `http.client.response.finish`
 * (the response headers arrived) ends it, `http.client.request.error` ends it as failed. On a line
 * without `created` (Node 20) the headers are already on the wire at `start`: nothing is propagated.
 * Returns the unsubscribe function.
 */
export function subscribeHttp(observer: CallObserver): () => void {
  const onCreated = (message: unknown): void => {
    const request = (message as { request: ClientRequest }).request
    const context = observer.start(request, observer.targetOf(originOf(request)), request.method, request.path)
    if (context === null || request.headersSent) return
    for (const [name, value] of propagatedHeaders(context)) if (!request.hasHeader(name)) request.setHeader(name, value)
  }
  const onStart = (message: unknown): void => {
    const request = (message as { request: ClientRequest }).request
    if (!observer.has(request)) observer.start(request, observer.targetOf(originOf(request)), request.method, request.path)
  }
  const onFinish = (message: unknown): void => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage }
    observer.finish(request, response.statusCode)
  }
  const onError = (message: unknown): void => {
    const { request, error } = message as { request: ClientRequest; error: unknown }
    observer.fail(request, error)
  }
  const subscriptions: [string, (message: unknown) => void][] = [
    ['http.client.request.created', onCreated],
    ['http.client.request.start', onStart],
    ['http.client.response.finish', onFinish],
    ['http.client.request.error', onError],
  ]
  const handlers = subscriptions.map(([name, fn]) => [name, guarded(fn)] as const)
  for (const [name, fn] of handlers) diagnosticsChannel.subscribe(name, fn)
  return () => {
    for (const [name, fn] of handlers) diagnosticsChannel.unsubscribe(name, fn)
  }
}
