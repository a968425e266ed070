import { randomBytes } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { RequestContext } from './types.js'

/** The parts of `@opentelemetry/api` core reads: the active span's ids. */
export interface OtelTraceApi {
  trace: {
    getActiveSpan(): { spanContext(): { traceId: string; spanId: string } } | undefined
  }
}

/** A trace as core puts it in the request context. */
export interface TraceIds {
  traceId: string
  spanId: string
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/
const ZERO_TRACE_ID = '00000000000000000000000000000000'
const ZERO_SPAN_ID = '0000000000000000'
/** A `traceparent` of a later version may carry more fields after the 55 characters of version 00; capped. */
const MAX_TRACEPARENT_LENGTH = 256
const TRACE_ID = /^[0-9a-f]{32}$/
const SPAN_ID = /^[0-9a-f]{16}$/

/**
 * The trace id of a W3C `traceparent` header, or `undefined` when it is not one: wrong length,
 * upper case, not hex, version `ff`, all-zero trace or parent id, a version 00 header with extra
 * characters, or anything longer than 256 characters. Strict: a header we cannot vouch for never
 * reaches a log line.
 */
export function parseTraceparent(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined
  const length = header.length
  if (length < 55 || length > MAX_TRACEPARENT_LENGTH) return undefined
  // Later versions may append fields after a '-'; version 00 is exactly 55 characters.
  const head = length === 55 ? header : header.charCodeAt(55) === 45 /* - */ ? header.slice(0, 55) : undefined
  if (head === undefined) return undefined
  const match = TRACEPARENT.exec(head)
  if (match === null) return undefined
  const version = match[1] as string
  if (version === 'ff' || (version === '00' && length !== 55)) return undefined
  const traceId = match[2] as string
  if (traceId === ZERO_TRACE_ID || match[3] === ZERO_SPAN_ID) return undefined
  return traceId
}

// Span ids are cut from a block of random bytes, refilled every 512 ids: one randomBytes() call
// per 512 traced requests instead of one each.
const POOL_IDS = 512
let pool = randomBytes(POOL_IDS * 8)
let poolOffset = 0

/** A fresh, non-zero 16-hex-digit span id. */
export function newSpanId(): string {
  let id = ZERO_SPAN_ID
  while (id === ZERO_SPAN_ID) {
    if (poolOffset === pool.length) {
      pool = randomBytes(POOL_IDS * 8)
      poolOffset = 0
    }
    id = pool.toString('hex', poolOffset, poolOffset + 8)
    poolOffset += 8
  }
  return id
}

let otelApi: Promise<OtelTraceApi | undefined> | undefined

/**
 * `@opentelemetry/api` when it is installed (an optional peer), else `undefined`; imported once
 * per process (the API package itself is a process-wide singleton), never an import failure.
 */
export function loadOtelApi(): Promise<OtelTraceApi | undefined> {
  otelApi ??= import('@opentelemetry/api').then(
    (api) => api as unknown as OtelTraceApi,
    () => undefined,
  )
  return otelApi
}

// @fastify/otel keeps its request span on the request; the active span inside a hook it wraps is
// that hook's own child span, so the request span is asked for first.
type OtelRequest = FastifyRequest & {
  opentelemetry?: () => { span?: { spanContext(): { traceId: string; spanId: string } } | null }
}

function validIds(ids: { traceId: string; spanId: string } | undefined): TraceIds | undefined {
  if (ids === undefined || ids.traceId === ZERO_TRACE_ID || !TRACE_ID.test(ids.traceId) || !SPAN_ID.test(ids.spanId)) return undefined
  return { traceId: ids.traceId, spanId: ids.spanId }
}

// Where @opentelemetry/api 1.x keeps what an SDK registered (`context` once a context manager is):
// without one no span can be active, and a request pays a property read instead of the API's calls.
const OTEL_GLOBAL = Symbol.for('opentelemetry.js.api.1')

function activeSpanIds(api: OtelTraceApi, request: FastifyRequest): TraceIds | undefined {
  const otelRequest = request as OtelRequest
  if (typeof otelRequest.opentelemetry === 'function') {
    const span = otelRequest.opentelemetry().span
    if (span !== null && span !== undefined) {
      const ids = validIds(span.spanContext())
      if (ids !== undefined) return ids
    }
  }
  const registered = (globalThis as Record<symbol, { context?: unknown } | undefined>)[OTEL_GLOBAL]
  if (registered?.context === undefined) return undefined
  return validIds(api.trace.getActiveSpan()?.spanContext())
}

/**
 * Sets `traceId` / `spanId` on a request's context: the active OpenTelemetry span's when there is
 * one, else the trace id of a valid incoming `traceparent` with a fresh span id, else nothing.
 */
export function applyTraceContext(context: RequestContext, request: FastifyRequest, api: OtelTraceApi | undefined): void {
  if (api !== undefined) {
    const ids = activeSpanIds(api, request)
    if (ids !== undefined) {
      context.traceId = ids.traceId
      context.spanId = ids.spanId
      return
    }
  }
  const header = request.headers.traceparent
  if (header === undefined) return
  const traceId = parseTraceparent(header)
  if (traceId === undefined) return
  context.traceId = traceId
  context.spanId = newSpanId()
}
