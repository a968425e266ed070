// One request, three signals: service A (`orders`) answers GET /orders/42 by calling service B
// (`inventory`) with fetch(), both Fastify with @opskit/core, logging, metrics and outbound, on real
// sockets, traced by the OpenTelemetry SDK with @fastify/otel. Prints what each signal holds for
// that one request: the log lines of A and B, A's metric samples, and the exported request spans.
// The ids match across them. `pnpm build && node examples/two-services/dist/main.js`
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { context, propagation, SpanKind } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import FastifyOtel from '@fastify/otel'
import Fastify, { type FastifyInstance } from 'fastify'
import { opskitCore } from '@opskit/core'
import { createLogger, fastifyLoggingOptions, opskitLogging } from '@opskit/logging'
import { opskitMetrics } from '@opskit/metrics'
import { opskitOutbound, type OpskitOutboundOptions } from '@opskit/outbound'

/** What the run printed, section by section (each a list of lines). */
export interface Signals {
  logs: string[]
  metrics: string[]
  spans: string[]
}

// One SDK for the process (its context manager and W3C propagator are global); each service its
// own tracer provider, so its spans carry its `service.name`. A real deployment exports over OTLP
// (the suite's ENABLE_OPENTELEMETRY); here the spans stay in memory to be printed.
const exporter = new InMemorySpanExporter()

async function service(name: string, logs: string[], outbound: OpskitOutboundOptions, routes: (app: FastifyInstance) => void): Promise<{ app: FastifyInstance; url: string }> {
  const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': name }), spanProcessors: [new SimpleSpanProcessor({ exporter })] })
  const instrumentation = new FastifyOtel.FastifyOtelInstrumentation()
  instrumentation.setTracerProvider(provider)
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') logs.push(line)
      done()
    },
  })
  const app = Fastify(fastifyLoggingOptions(createLogger({ name, format: 'json', level: 'info', destination })))
  await app.register(instrumentation.plugin())
  await app.register(opskitCore)
  await app.register(opskitLogging)
  await app.register(opskitMetrics, { defaultMetrics: false })
  await app.register(opskitOutbound, outbound)
  routes(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}

/** Starts both services, sends one request to A, returns the three signals of it, closes both. */
export async function oneRequest(): Promise<Signals> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  const logs: string[] = []
  const inventory = await service('inventory', logs, {}, (app) => {
    app.get('/items/:id', async (request) => ({ id: (request.params as { id: string }).id, stock: 3 }))
  })
  const inventoryHost = new URL(inventory.url).host
  const orders = await service('orders', logs, { services: { inventory: inventoryHost }, propagate: [inventoryHost] }, (app) => {
    app.get('/orders/:id', async (request) => {
      const res = await fetch(`${inventory.url}/items/${(request.params as { id: string }).id}?api_key=k-123`)
      return { order: (request.params as { id: string }).id, item: await res.json() }
    })
  })
  try {
    const res = await fetch(`${orders.url}/orders/42`)
    await res.text()
    const requestId = String(res.headers.get('x-request-id'))
    // The lines of that one request, in A and in B (B reuses the x-request-id A propagated).
    const lines = logs.filter((line) => (JSON.parse(line) as { request_id?: unknown }).request_id === requestId)
    const traceId = (JSON.parse(lines[0] ?? '{}') as { trace_id?: string }).trace_id
    const scrape = await (await fetch(`${orders.url}/metrics`, { headers: { accept: 'application/openmetrics-text' } })).text()
    const metrics = scrape
      .split('\n')
      .filter((line) => line.startsWith('http_client_requests_total{service="inventory"') || (line.startsWith('http_request_duration_seconds_bucket{') && line.includes(`# {trace_id="${traceId}"}`)))
    const spans = exporter
      .getFinishedSpans()
      .filter((span) => span.kind === SpanKind.SERVER && span.spanContext().traceId === traceId)
      .map((span) =>
        JSON.stringify({
          service: span.resource.attributes['service.name'],
          name: span.name,
          trace_id: span.spanContext().traceId,
          span_id: span.spanContext().spanId,
          parent_span_id: span.parentSpanContext?.spanId ?? null,
        }),
      )
    return { logs: lines, metrics, spans }
  } finally {
    await orders.app.close()
    await inventory.app.close()
    exporter.reset()
    context.disable()
    propagation.disable()
  }
}

/** The section headings of `format()`, in order. */
export const HEADINGS = ['# log lines of the request, as B (inventory) and A (orders) wrote them', "# A's /metrics (Accept: application/openmetrics-text)", '# exported SERVER spans (B, then A)'] as const

/** The three signals as the root README shows them. */
export function format(signals: Signals): string {
  // One line per signal line, so the README block reads like the terminal.
  return [HEADINGS[0], ...signals.logs, '', HEADINGS[1], ...signals.metrics, '', HEADINGS[2], ...signals.spans].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(format(await oneRequest()))
