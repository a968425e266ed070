import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { getRequestContext, opskitCore, parseTraceparent, requestIdGenerator } from '@opskit/core'

let app: FastifyInstance
afterEach(() => app?.close())

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const VALID = `00-${TRACE_ID}-00f067aa0ba902b7-01`

async function build() {
  app = Fastify({ genReqId: requestIdGenerator() })
  await app.register(opskitCore)
  app.get('/ctx', async () => {
    await new Promise((resolve) => setImmediate(resolve))
    const ctx = getRequestContext()
    return { traceId: ctx?.traceId ?? null, spanId: ctx?.spanId ?? null, hasTraceKey: ctx !== undefined && 'traceId' in ctx }
  })
  return app
}

describe('trace context from traceparent', () => {
  it('takes the trace id of a valid traceparent and gives the request a fresh span id', async () => {
    await build()
    const first = (await app.inject({ url: '/ctx', headers: { traceparent: VALID } })).json()
    const second = (await app.inject({ url: '/ctx', headers: { traceparent: VALID } })).json()
    expect(first.traceId).toBe(TRACE_ID)
    expect(first.spanId).toMatch(/^[0-9a-f]{16}$/)
    expect(first.spanId).not.toBe('00f067aa0ba902b7')
    expect(second.spanId).not.toBe(first.spanId)
  })

  it('has no trace (and no trace key) without a traceparent and without an active span', async () => {
    await build()
    const body = (await app.inject({ url: '/ctx' })).json()
    expect(body).toEqual({ traceId: null, spanId: null, hasTraceKey: false })
  })

  it.each([
    ['upper case', `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`],
    ['all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['all-zero parent id', `00-${TRACE_ID}-0000000000000000-01`],
    ['version ff', `ff-${TRACE_ID}-00f067aa0ba902b7-01`],
    ['too short', `00-${TRACE_ID.slice(1)}-00f067aa0ba902b7-01`],
    ['over-long version 00', `${VALID}-${'a'.repeat(4000)}`],
    ['version 00 with a trailing field', `${VALID}-extra`],
    ['not hex', `00-${TRACE_ID.slice(0, 31)}g-00f067aa0ba902b7-01`],
    ['a quote and a brace', `00-${TRACE_ID.slice(0, 30)}"}-00f067aa0ba902b7-01`],
  ])('ignores a traceparent that is %s', async (_name, traceparent) => {
    await build()
    const body = (await app.inject({ url: '/ctx', headers: { traceparent } })).json()
    expect(body.traceId).toBeNull()
    expect(body.spanId).toBeNull()
  })

  it('accepts a later version with extra fields, and refuses CRLF, spaces, arrays and anything over 256 characters', () => {
    expect(parseTraceparent(`01-${TRACE_ID}-00f067aa0ba902b7-01-future`)).toBe(TRACE_ID)
    expect(parseTraceparent(VALID)).toBe(TRACE_ID)
    expect(parseTraceparent(`${VALID}\r\nx-injected: 1`)).toBeUndefined()
    expect(parseTraceparent(`00-${TRACE_ID}\r\n-00f067aa0ba902b7-01`)).toBeUndefined()
    expect(parseTraceparent(` ${VALID}`)).toBeUndefined()
    expect(parseTraceparent([VALID, VALID])).toBeUndefined()
    expect(parseTraceparent(`01-${TRACE_ID}-00f067aa0ba902b7-01-${'a'.repeat(300)}`)).toBeUndefined()
    expect(parseTraceparent(undefined)).toBeUndefined()
  })
})
