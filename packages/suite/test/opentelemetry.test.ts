import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { context, propagation, SpanKind } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import FastifyOtel from '@fastify/otel'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { getRequestContext } from '@opskit/core'
import { loadConfig, OpskitConfigError, opskit, serverOptions } from '@opskit/suite'
import { jsonLines as captureLines } from '../../../test-utils/server-log-capture.js'

let app: FastifyInstance | undefined
let receiver: Server | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
  await new Promise((resolve) => (receiver === undefined ? resolve(undefined) : receiver.close(resolve)))
  receiver = undefined
})

const INCOMING_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'

function routes(instance: FastifyInstance): void {
  instance.post('/bookings', async (request) => {
    request.log.info('booking handler')
    const record = await request.audit({ action: 'create', entityType: 'booking', entityId: 'b-1', after: { status: 'pending' } })
    return { auditTraceId: record.trace_id, context: { traceId: getRequestContext()?.traceId, spanId: getRequestContext()?.spanId } }
  })
}

describe('the OpenTelemetry Node tracing SDK with @fastify/otel (in-memory exporter)', () => {
  it('trace_id / span_id on the lines and the audit row are the ids of the exported SERVER span of the request; an incoming traceparent is continued', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    const exporter = new InMemorySpanExporter()
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] })
    const instrumentation = new FastifyOtel.FastifyOtelInstrumentation()
    instrumentation.setTracerProvider(provider)

    const log = captureLines()
    const config = loadConfig({ LOG_LEVEL: 'info' })
    app = Fastify(serverOptions(config, { destination: log.stream }))
    await app.register(instrumentation.plugin())
    await app.register(opskit, { config, rateLimit: false })
    routes(app)

    const fresh = await app.inject({ method: 'POST', url: '/bookings' })
    const continued = await app.inject({ method: 'POST', url: '/bookings', headers: { traceparent: `00-${INCOMING_TRACE}-00f067aa0ba902b7-01` } })
    expect(fresh.statusCode).toBe(200)
    await provider.forceFlush()

    const serverSpans = exporter.getFinishedSpans().filter((span) => span.name === 'request' && span.kind === SpanKind.SERVER)
    expect(serverSpans).toHaveLength(2)
    const lines = log.lines()
    for (const [res, span] of [[fresh, serverSpans[0]!], [continued, serverSpans[1]!]] as const) {
      const { traceId, spanId } = span.spanContext()
      const body = res.json() as { auditTraceId: string; context: { traceId: string; spanId: string } }
      expect(body.context).toEqual({ traceId, spanId })
      expect(body.auditTraceId).toBe(traceId)
      const requestId = res.headers['x-request-id']
      const own = lines.filter((l) => l.request_id === requestId)
      expect(own.map((l) => l.message)).toEqual(expect.arrayContaining(['booking handler', 'request completed']))
      for (const line of own) expect(line, String(line.message)).toMatchObject({ trace_id: traceId, span_id: spanId })
    }
    expect(serverSpans[1]!.spanContext().traceId).toBe(INCOMING_TRACE)
    expect(serverSpans[0]!.spanContext().traceId).not.toBe(INCOMING_TRACE)
    const stored = await app.audit.query({})
    expect(stored.items.map((row) => (row as { trace_id?: string }).trace_id).sort()).toEqual(serverSpans.map((s) => s.spanContext().traceId).sort())
    await provider.shutdown()
  })
})

describe('ENABLE_OPENTELEMETRY=true', () => {
  it('starts the SDK with @fastify/otel and exports the request span over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces, with the trace id on the log line', async () => {
    const received: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }> = []
    let arrived: () => void = () => undefined
    const first = new Promise<void>((resolve) => (arrived = resolve))
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) })
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
        arrived()
      })
    })
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve))
    const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`

    const log = captureLines()
    const config = loadConfig({ APP_NAME: 'bookings-api', ENABLE_OPENTELEMETRY: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })
    expect(config.openTelemetry).toEqual({ endpoint })
    app = Fastify(serverOptions(config, { destination: log.stream }))
    await app.register(opskit, { config, rateLimit: false })
    routes(app)
    const res = await app.inject({ method: 'POST', url: '/bookings' })
    const { traceId, spanId } = (res.json() as { context: { traceId: string; spanId: string } }).context
    expect(traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(log.lines().find((l) => l.message === 'request completed')).toMatchObject({ trace_id: traceId, span_id: spanId })

    await app.close() // flushes the batch processor
    app = undefined
    await first
    const traces = received.filter((r) => r.url === '/v1/traces')
    expect(traces.length).toBeGreaterThanOrEqual(1)
    expect(traces[0]!.method).toBe('POST')
    expect(traces[0]!.headers['content-type']).toBe('application/x-protobuf')
    const all = Buffer.concat(traces.map((t) => t.body))
    // OTLP protobuf carries ids as raw bytes: the request span's trace and span id are in the export.
    expect(all.includes(Buffer.from(traceId, 'hex'))).toBe(true)
    expect(all.includes(Buffer.from(spanId, 'hex'))).toBe(true)
    expect(all.includes(Buffer.from('bookings-api'))).toBe(true)
  })

  it('loadConfig names every bad OpenTelemetry variable in one error, without echoing the endpoint', () => {
    let error: unknown
    try {
      loadConfig({ ENABLE_OPENTELEMETRY: 'maybe', OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://user:s3cret@collector', LOG_LEVEL: 'loud' })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(OpskitConfigError)
    const problems = (error as OpskitConfigError).problems.map((p) => p.variable)
    expect(problems).toEqual(expect.arrayContaining(['ENABLE_OPENTELEMETRY', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'LOG_LEVEL']))
    expect((error as Error).message).not.toContain('s3cret')
    expect(loadConfig({ ENABLE_OPENTELEMETRY: 'true' }).openTelemetry).toEqual({ endpoint: 'http://localhost:4318' })
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).openTelemetry).toBeUndefined()
  })
})
