import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp, hasPromtool, promtoolCheckMetrics } from './helpers.js'

let app: FastifyInstance
afterEach(() => app?.close())

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const OTHER_TRACE_ID = '0af7651916cd43dd8448eb211c80319c'
const traceparent = (traceId: string) => `00-${traceId}-00f067aa0ba902b7-01`
// What Prometheus 2.x/3.x sends when it scrapes.
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

const SUFFIXES: Record<string, string[]> = {
  counter: ['_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['', '_sum', '_count', '_created'],
  unknown: [''],
}
const LABELS = String.raw`\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\n"])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\n"])*")*)?\}`
const NUMBER = String.raw`(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)`
const SAMPLE = new RegExp(String.raw`^([a-zA-Z_:][a-zA-Z0-9_:]*)(${LABELS})? (${NUMBER})(?: # (${LABELS}) (${NUMBER})(?: (${NUMBER}))?)?$`)

interface Exemplar { family: string; labels: string; exemplarLabels: string; value: number }

/** A strict reading of the OpenMetrics text format: throws on the first line a parser would refuse. */
function parseOpenMetrics(text: string): { families: Map<string, string>; exemplars: Exemplar[] } {
  expect(text.endsWith('# EOF\n')).toBe(true)
  const lines = text.slice(0, -'# EOF\n'.length).split('\n')
  expect(lines.pop()).toBe('')
  const families = new Map<string, string>()
  const exemplars: Exemplar[] = []
  let family = ''
  for (const line of lines) {
    const meta = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*)(?: (.*))?$/.exec(line)
    if (meta !== null) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string | undefined]
      if (name !== family) {
        expect(families.has(name), `family ${name} declared twice`).toBe(false)
        family = name
        families.set(name, 'unknown')
      }
      if (kind === 'TYPE') {
        expect(Object.keys(SUFFIXES), line).toContain(rest)
        families.set(name, rest as string)
      }
      continue
    }
    const match = SAMPLE.exec(line)
    expect(match, `not an OpenMetrics sample line: ${line}`).not.toBeNull()
    const [, name, labels = '', , exemplarLabels, exemplarValue] = match as unknown as [string, string, string | undefined, string, string | undefined, string | undefined]
    const type = families.get(family) as string
    expect(SUFFIXES[type]!.map((suffix) => family + suffix), line).toContain(name)
    if (exemplarLabels !== undefined) {
      expect(name === `${family}_bucket` || name === `${family}_total`, `exemplar on ${name}`).toBe(true)
      expect(exemplarLabels.length).toBeLessThanOrEqual(130)
      exemplars.push({ family, labels, exemplarLabels, value: Number(exemplarValue) })
    }
  }
  return { families, exemplars }
}

async function tracedApp() {
  app = await buildApp({ defaultMetrics: true })
  app.get('/orders/:id', async () => ({ ok: true }))
  app.get('/plain', async () => ({ ok: true }))
  await app.inject({ url: '/orders/1', headers: { traceparent: traceparent(TRACE_ID) } })
  await app.inject({ url: '/orders/2', headers: { traceparent: traceparent(OTHER_TRACE_ID) } })
  await app.inject({ url: '/plain' })
  await app.inject({ url: '/missing', headers: { traceparent: traceparent(TRACE_ID) } })
  return app
}

describe('GET /metrics in the OpenMetrics format', () => {
  it('answers OpenMetrics to Prometheus\'s Accept header, with trace_id exemplars on the buckets of traced requests only', async () => {
    await tracedApp()
    const res = await app.inject({ url: '/metrics', headers: { accept: PROMETHEUS_ACCEPT } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8')
    const { families, exemplars } = parseOpenMetrics(res.body)
    expect(families.get('http_requests')).toBe('counter')
    expect(families.get('http_request_duration_seconds')).toBe('histogram')
    expect(res.body).toMatch(/^http_requests_total\{method="GET",route="\/orders\/:id",status_code="200"\} 2$/m)

    const orders = exemplars.filter((e) => e.labels.includes('route="/orders/:id"'))
    // The latest of the two traced requests holds the bucket both landed in (or each its own).
    expect(orders.length).toBeGreaterThanOrEqual(1)
    for (const e of orders) expect(e.exemplarLabels).toMatch(/^\{trace_id="(4bf92f3577b34da6a3ce929d0e0e4736|0af7651916cd43dd8448eb211c80319c)"\}$/)
    expect(orders.some((e) => e.exemplarLabels.includes(OTHER_TRACE_ID))).toBe(true)
    expect(exemplars.some((e) => e.labels.includes('route="unmatched"') && e.exemplarLabels.includes(TRACE_ID))).toBe(true)
    expect(exemplars.filter((e) => e.labels.includes('route="/plain"'))).toEqual([])
    for (const e of exemplars) {
      expect(e.family).toBe('http_request_duration_seconds')
      const le = /le="([^"]+)"/.exec(e.labels)![1]!
      expect(e.value).toBeLessThanOrEqual(le === '+Inf' ? Infinity : Number(le))
    }
  })

  it('leaves the plain Prometheus text format unchanged (no exemplar, counters keep _total) before and after an OpenMetrics scrape, promtool-clean', async () => {
    await tracedApp()
    const before = await app.inject({ url: '/metrics' })
    await app.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text' } })
    const after = await app.inject({ url: '/metrics', headers: { accept: 'text/plain;version=0.0.4' } })
    for (const res of [before, after]) {
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
      expect(res.body).toContain('# TYPE http_requests_total counter')
      expect(res.body).not.toContain('trace_id')
      expect(res.body).not.toContain('# EOF')
    }
    const strip = (body: string) => body.replace(/^process_.*$|^nodejs_.*$/gm, '')
    expect(strip(after.body)).toBe(strip(before.body))
    if (hasPromtool) {
      const check = await promtoolCheckMetrics(after.body)
      expect(check.output).toBe('')
      expect(check.code).toBe(0)
    }
  })

  it('carries the registry\'s default labels on every sample, after the sample\'s own labels as in the text format, exemplars kept', async () => {
    app = await buildApp({ defaultMetrics: false })
    app.metrics.registry.setDefaultLabels({ service: 'shop' })
    app.get('/orders/:id', async () => ({ ok: true }))
    await app.inject({ url: '/orders/1', headers: { traceparent: traceparent(TRACE_ID) } })
    const res = await app.inject({ url: '/metrics', headers: { accept: PROMETHEUS_ACCEPT } })
    const { exemplars } = parseOpenMetrics(res.body)
    expect(res.body).toMatch(/^http_requests_total\{method="GET",route="\/orders\/:id",status_code="200",service="shop"\} 1$/m)
    expect(res.body).toMatch(/^http_requests_in_flight\{service="shop"\} \d+$/m)
    expect(exemplars.some((e) => e.labels.includes('service="shop"') && e.exemplarLabels.includes(TRACE_ID))).toBe(true)
  })

  it('negotiates: text/plain preferred or openmetrics at q=0 gives the text format', async () => {
    await tracedApp()
    for (const accept of ['text/plain', 'application/openmetrics-text;q=0,text/plain', 'text/plain;q=1,application/openmetrics-text;q=0.5', '*/*']) {
      const res = await app.inject({ url: '/metrics', headers: { accept } })
      expect(res.headers['content-type'], accept).toMatch(/^text\/plain/)
    }
    const res = await app.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text; version=1.0.0' } })
    expect(res.headers['content-type']).toMatch(/^application\/openmetrics-text/)
    expect(res.headers.vary).toMatch(/accept/i)
  })
})
