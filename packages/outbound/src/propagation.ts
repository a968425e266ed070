import type { RequestContext } from '@opskit/core'

const TRACE_ID = /^[0-9a-f]{32}$/
const SPAN_ID = /^[0-9a-f]{16}$/
const FLAGS = /^[0-9a-f]{2}$/
const ZERO_TRACE = '0'.repeat(32)
const ZERO_SPAN = '0'.repeat(16)

/** Fields core's `RequestContext` gains with trace context (second edition); read defensively. */
interface TraceFields {
  traceId?: unknown
  spanId?: unknown
  traceFlags?: unknown
}

/**
 * The W3C `traceparent` of the current request's span, when the context has a valid trace and
 * span id (`RequestContext.traceId` / `spanId`); `undefined` otherwise. Sampled unless the context
 * says otherwise (`traceFlags`).
 */
export function traceparentOf(context: RequestContext): string | undefined {
  const { traceId, spanId, traceFlags } = context as RequestContext & TraceFields
  if (typeof traceId !== 'string' || typeof spanId !== 'string' || !TRACE_ID.test(traceId) || !SPAN_ID.test(spanId)) return undefined
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined
  const flags = typeof traceFlags === 'string' && FLAGS.test(traceFlags) ? traceFlags : typeof traceFlags === 'number' && traceFlags >= 0 && traceFlags < 256 ? traceFlags.toString(16).padStart(2, '0') : '01'
  return `00-${traceId}-${spanId}-${flags}`
}

/** Header pairs a listed host receives: `x-request-id` (core validated it) and `traceparent` when traced. */
export function propagatedHeaders(context: RequestContext): [string, string][] {
  const headers: [string, string][] = [['x-request-id', context.requestId]]
  const traceparent = traceparentOf(context)
  if (traceparent !== undefined) headers.push(['traceparent', traceparent])
  return headers
}
