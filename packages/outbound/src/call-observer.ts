import { contextBelongsTo, ExternalCallFields, getRequestContext, redactString, runOutsideRequestContext, runWithRequestContext, type RequestContext } from '@opskit/core'
import type { FastifyBaseLogger } from 'fastify'
import { captureCallSite, sourceOf, type CallSite } from './call-site.js'
import { errorCode } from './error-code.js'
import { MAX_SERVICE_LABELS, type OutboundMetrics } from './outbound-metrics.js'
import type { ResolvedOutboundOptions } from './options.js'
import { safeUrl } from './safe-url.js'

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'])

/** What the options make of one origin: its service, metric label, origin as lines show it, propagation. */
interface Target {
  readonly service: string
  /** `service`, or `other` past `MAX_SERVICE_LABELS`. */
  readonly label: string
  readonly origin: string
  readonly propagate: boolean
  /** `safeUrl(origin, path)` by path, for the paths this origin is called with again and again (bounded). */
  readonly urls: Map<string, string>
}

/** Origins whose `Target` is kept; past it the cache starts over. */
const MAX_TARGETS = 1000

/** Paths per origin whose line URL is kept; past it that origin's cache starts over. */
const MAX_URLS_PER_TARGET = 256
/** Longer paths are worked out each time (an id-laden or signed URL is seldom called twice). */
const MAX_CACHED_PATH_LENGTH = 256

/**
 * The URL of a call as its line shows it, the same string for the same path: the logger's cache of
 * quoted strings then finds it by identity, with its hash already computed, instead of hashing a
 * freshly built URL on every call.
 */
function urlOf(target: Target, path: string): string {
  if (path.length > MAX_CACHED_PATH_LENGTH) return safeUrl(target.origin, path)
  let url = target.urls.get(path)
  if (url === undefined) {
    url = safeUrl(target.origin, path)
    if (target.urls.size >= MAX_URLS_PER_TARGET) target.urls.clear()
    target.urls.set(path, url)
  }
  return url
}

/** One call in flight. */
interface Call {
  target: Target
  method: string
  url: string
  start: number
  context: RequestContext | undefined
  /** With `callSite`: the stack of the code that made the call, formatted only for a WARN line's `source`. */
  site: CallSite | undefined
  status: number | undefined
  /** Bytes of the request / response body kept for `bodyPreview` (at most `maxBytes` each). */
  sent: Buffer[] | undefined
  received: Buffer[] | undefined
}

/** Where a call goes, as a client channel tells it: `http:` / `https:`, the hostname, the port (`''` for the protocol's default). */
export interface CallOrigin {
  protocol: string
  hostname: string
  port: string
}

/** What the options make of one origin (null: ignored); the channel subscribers keep it per origin. */
export type CallTarget = Target | null

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80'
}

/** Bytes kept past `maxBytes` so that a secret cut by the limit is still recognised (and masked) whole. */
const PREVIEW_MARGIN = 1024

function keep(chunks: Buffer[], chunk: unknown, maxBytes: number): void {
  maxBytes += PREVIEW_MARGIN
  let have = 0
  for (const c of chunks) have += c.byteLength
  if (have >= maxBytes) return
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk instanceof Uint8Array ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : undefined
  if (bytes === undefined) return
  chunks.push(Buffer.from(bytes.subarray(0, maxBytes - have)))
}

/** The kept bytes as text, secrets masked (core's `redactString`) before the cut to `maxBytes`, or undefined when none. */
function previewOf(chunks: Buffer[] | undefined, maxBytes: number): string | undefined {
  if (chunks === undefined || chunks.length === 0) return undefined
  const masked = Buffer.from(redactString(Buffer.concat(chunks).toString('utf8')))
  // A multi-byte character cut at the limit decodes as U+FFFD; drop it.
  return masked.byteLength <= maxBytes ? masked.toString('utf8') : masked.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '')
}

/**
 * Where an observer keeps the calls in flight: on the client's request object (undici's `Request`,
 * `ClientRequest`), under a symbol of its own, so a call lives exactly as long as its request.
 * Not a WeakMap keyed by the request: in a loaded server, where the requests in flight are young
 * objects when the garbage collector runs, each WeakMap entry is an ephemeron the scavenger has to
 * trace apart, and that alone cost 5 % of the throughput of an outbound-heavy route (bench/,
 * `noop-alloc` against `noop-alloc-property`). A request object that cannot take a property (frozen,
 * sealed) falls back to a WeakMap.
 */
class CallSlot {
  readonly #key = Symbol('opskit.outbound.call')
  #fallback: WeakMap<object, Call> | undefined

  get(request: object): Call | undefined {
    const call = (request as Record<symbol, Call | undefined>)[this.#key]
    return call !== undefined ? call : this.#fallback?.get(request)
  }

  has(request: object): boolean {
    return this.get(request) !== undefined
  }

  set(request: object, call: Call): void {
    if (Object.isExtensible(request)) (request as Record<symbol, Call | undefined>)[this.#key] = call
    else (this.#fallback ??= new WeakMap()).set(request, call)
  }

  /** Cleared by assignment, not `delete` (which would turn the request object into a slow dictionary). */
  delete(request: object): void {
    const slots = request as Record<symbol, Call | undefined>
    if (slots[this.#key] !== undefined) slots[this.#key] = undefined
    else this.#fallback?.delete(request)
  }
}

/**
 * The state of one `@opskit/outbound` instance: which calls it observes, how it names them, and the
 * line and metrics it writes when one ends. The channel subscribers (`undici-channels.ts`,
 * `http-channels.ts`) feed it; it keeps each call in flight on the client's request object itself
 * (see `CallSlot`), so a call that never ends (an unread body) leaks nothing.
 */
export class CallObserver {
  readonly #options: ResolvedOutboundOptions
  readonly #log: FastifyBaseLogger
  /** The Fastify instance whose requests and jobs this observer speaks for. */
  readonly #app: Parameters<typeof contextBelongsTo>[1]
  readonly #calls = new CallSlot()
  readonly #serviceLabels = new Set<string>()
  readonly #targets = new Map<string, Target | null>()
  #metrics: OutboundMetrics | null = null
  #closed = false

  constructor(options: ResolvedOutboundOptions, log: FastifyBaseLogger, app: Parameters<typeof contextBelongsTo>[1]) {
    this.#options = options
    this.#log = log
    this.#app = app
  }

  bindMetrics(metrics: OutboundMetrics | null): void {
    this.#metrics = metrics
  }

  close(): void {
    this.#closed = true
  }

  /**
   * A call starts (in the async context of the code that made it). Returns the request context whose
   * ids the call carries (`propagatedHeaders()`: a listed host, inside a request), or null; nothing
   * is recorded for an ignored host or a call made while another Fastify instance serves the request.
   */
  start(request: object, target: CallTarget, method: string, path: string): RequestContext | null {
    if (this.#closed || target === null) return null
    const context = getRequestContext()
    if (context !== undefined && !contextBelongsTo(context, this.#app)) return null
    const previewing = this.#options.bodyPreview !== null
    this.#calls.set(request, {
      target,
      method: METHODS.has(method) ? method : 'OTHER',
      url: urlOf(target, path),
      start: performance.now(),
      context,
      site: this.#options.callSite ? captureCallSite() : undefined,
      status: undefined,
      sent: previewing ? [] : undefined,
      received: previewing ? [] : undefined,
    })
    return context === undefined || !target.propagate ? null : context
  }

  /**
   * What the options make of one origin (null: ignored), worked out on its first call and kept.
   * The undici subscriber keeps it by origin string too, so a call there builds no key.
   */
  targetOf(info: CallOrigin): CallTarget {
    const key = info.protocol + '//' + info.hostname + ':' + info.port
    const known = this.#targets.get(key)
    if (known !== undefined) return known
    const hostname = info.hostname.toLowerCase()
    const port = info.port === '' ? defaultPort(info.protocol) : info.port
    let target: Target | null = null
    if (this.#options.ignore?.(hostname, port) !== true) {
      const host = port === defaultPort(info.protocol) ? hostname : `${hostname}:${port}`
      const service = this.#serviceOf(hostname, port, host)
      target = { service, label: this.#label(service), origin: `${info.protocol}//${host}`, propagate: this.#options.propagate?.(hostname, port) === true, urls: new Map() }
    }
    // Bounded: an app talks to a handful of origins; a crawler's thousands start over.
    if (this.#targets.size >= MAX_TARGETS) this.#targets.clear()
    this.#targets.set(key, target)
    return target
  }

  /** Whether a call is recorded for this client request object. */
  has(request: object): boolean {
    return this.#calls.has(request)
  }

  /** Whether `bodyPreview` is on (the body chunk channels are worth subscribing to). */
  get previewing(): boolean {
    return this.#options.bodyPreview !== null
  }

  /** A chunk of the request body was sent (`sent`) or of the response body received. */
  chunk(request: object, direction: 'sent' | 'received', chunk: unknown): void {
    const chunks = this.#calls.get(request)?.[direction]
    if (chunks !== undefined && this.#options.bodyPreview !== null) keep(chunks, chunk, this.#options.bodyPreview.maxBytes)
  }

  /** Response headers arrived. */
  response(request: object, statusCode: number): void {
    const call = this.#calls.get(request)
    if (call !== undefined) call.status = statusCode
  }

  /** The call ended: the whole response was read (undici) or its headers arrived (node:http). */
  finish(request: object, statusCode?: number): void {
    const call = this.#calls.get(request)
    if (call === undefined) return
    this.#calls.delete(request)
    if (statusCode !== undefined) call.status = statusCode
    this.#write(call, undefined)
  }

  /** The call failed: no response, or the response broke off. */
  fail(request: object, error: unknown): void {
    const call = this.#calls.get(request)
    if (call === undefined) return
    this.#calls.delete(request)
    this.#write(call, errorCode(error))
  }

  #serviceOf(hostname: string, port: string, host: string): string {
    for (const service of this.#options.services) if (service.match(hostname, port)) return service.name
    return host
  }

  #label(service: string): string {
    if (this.#serviceLabels.has(service)) return service
    if (this.#serviceLabels.size >= MAX_SERVICE_LABELS) return 'other'
    this.#serviceLabels.add(service)
    return service
  }

  #write(call: Call, error: string | undefined): void {
    if (this.#closed) return
    const ms = performance.now() - call.start
    const status = call.status
    this.#metrics?.observe(call.target.label, call.method, error === undefined && status !== undefined ? String(status) : 'error', ms / 1000)
    const context = call.context
    if (error === undefined && status !== undefined && status < 500 && call.sent === undefined) {
      // The common line (an answer, no preview): one shape, which @opskit/logging writes with fixed keys.
      // The fields carry the call's context: an opskit logger writes that request's fields (trace,
      // tenant) without entering it again; another logger gets request_id and user_id as fields.
      const fields = new ExternalCallFields(call.target.service, call.method, call.url, status, Math.round(ms * 1000) / 1000, context?.requestId, context?.actor?.id, context ?? null)
      this.#log.info(fields, 'external call')
      return
    }
    const fields: Record<string, unknown> = {
      service: call.target.service,
      method: call.method,
      url: call.url,
      status_code: status ?? null,
      duration_ms: Math.round(ms * 1000) / 1000,
    }
    if (error !== undefined) fields.error = error
    const maxBytes = this.#options.bodyPreview?.maxBytes ?? 0
    const sent = previewOf(call.sent, maxBytes)
    if (sent !== undefined) fields.request_body_preview = sent
    const received = previewOf(call.received, maxBytes)
    if (received !== undefined) fields.response_body_preview = received
    if (context !== undefined) {
      fields.request_id = context.requestId
      if (context.actor !== null) fields.user_id = context.actor.id
    }
    const warn = error !== undefined || (status !== undefined && status >= 500)
    // The line is written from a channel subscriber, where no frame of the caller is on the stack:
    // a WARN names the code that made the call (with `callSite`, captured when it started), or no
    // place at all (null), never this observer (which the logger's own caller lookup would give).
    if (warn) fields.source = sourceOf(call.site) ?? null
    // Written inside the caller's request context, so an opskit logger adds what it adds to every
    // line of that request (user_id, tenant_id, trace_id), and outside any for a call made outside
    // one (the socket's callback may run in the context of the request that opened the connection).
    const current = getRequestContext()
    if (current === context) this.#emit(warn, fields)
    else if (context === undefined) runOutsideRequestContext(() => this.#emit(warn, fields))
    else runWithRequestContext(context, () => this.#emit(warn, fields))
  }

  #emit(warn: boolean, fields: Record<string, unknown>): void {
    if (warn) this.#log.warn(fields, 'external call')
    else this.#log.info(fields, 'external call')
  }
}
