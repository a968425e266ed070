import { afterEach, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, Summary } from 'prom-client'
import Fastify from 'fastify'
import { FST_METRICS_INVALID_OPTION, FST_OPSKIT_METRICS_INVALID_OPTION, OPSKIT_METRICS, labelCap, metricsOf } from '@opskit/metrics'
import { buildApp, hasPromtool, promtoolCheckMetrics, valueOf } from './helpers.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

describe('fastify.metrics helpers', () => {
  it('get-or-create by name: a second call returns the same metric, in this instance registry', async () => {
    app = await buildApp({ defaultMetrics: false })
    const first = app.metrics.counter({ name: 'signups_total', help: 'Sign-ups.', labelNames: ['plan'] })
    const second = app.metrics.counter({ name: 'signups_total', help: 'Sign-ups.', labelNames: ['plan'] })
    expect(second).toBe(first)
    expect(first).toBeInstanceOf(Counter)
    expect(app.metrics.gauge({ name: 'g', help: 'g' })).toBeInstanceOf(Gauge)
    expect(app.metrics.histogram({ name: 'h_seconds', help: 'h', buckets: [1] })).toBeInstanceOf(Histogram)
    expect(app.metrics.summary({ name: 's_seconds', help: 's' })).toBeInstanceOf(Summary)
    first.inc({ plan: 'pro' }, 2)
    expect(valueOf((await app.inject('/metrics')).body, 'signups_total{plan="pro"}')).toBe(2)
  })

  it('refuses a name already used by another type or with other label names', async () => {
    app = await buildApp({ defaultMetrics: false })
    app.metrics.counter({ name: 'things_total', help: 'Things.', labelNames: ['kind'] })
    const conflict = { code: 'FST_OPSKIT_METRICS_METRIC_CONFLICT' }
    expect(() => app!.metrics.gauge({ name: 'things_total', help: 'Things.' })).toThrow(expect.objectContaining({ ...conflict, message: expect.stringMatching(/"things_total" is already registered as another type, not a gauge/) }))
    expect(() => app!.metrics.counter({ name: 'things_total', help: 'Things.', labelNames: ['other'] })).toThrow(expect.objectContaining({ ...conflict, message: expect.stringMatching(/other label names/) }))
    expect(() => app!.metrics.counter({ name: 'http_requests_total', help: 'mine' })).toThrow(expect.objectContaining(conflict))
    expect(() => app!.metrics.counter({ help: 'no name' } as never)).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_METRICS_INVALID_METRIC', message: expect.stringContaining('counter()') }))
  })

  it('an invalid option carries FST_OPSKIT_METRICS_INVALID_OPTION, and the deprecated FST_METRICS_INVALID_OPTION still catches it', async () => {
    const err = await buildApp({ endpoint: 'metrics' }).then(() => null, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'FST_OPSKIT_METRICS_INVALID_OPTION', message: expect.stringContaining('"endpoint"') })
    expect(err).toBeInstanceOf(FST_METRICS_INVALID_OPTION)
    expect(err).toBeInstanceOf(FST_OPSKIT_METRICS_INVALID_OPTION)
  })

  it('reads a business number at scrape time through an async gauge collect', async () => {
    app = await buildApp({ defaultMetrics: false })
    let pending = 4
    app.metrics.gauge({
      name: 'orders_pending',
      help: 'Orders waiting for payment, read from the database at scrape time.',
      async collect() {
        const value = await new Promise<number>((resolve) => setTimeout(() => resolve(pending), 5))
        this.set(value)
      },
    })
    expect(valueOf((await app.inject('/metrics')).body, 'orders_pending')).toBe(4)
    pending = 9
    expect(valueOf((await app.inject('/metrics')).body, 'orders_pending')).toBe(9)
  })

  it('keeps the scrape working, with the last value, when a gauge collect fails', async () => {
    const lines: string[] = []
    app = await buildApp({ defaultMetrics: false }, { logger: { level: 'warn', stream: { write: (line: string) => lines.push(line) } } })
    let fail = false
    app.metrics.gauge({
      name: 'queue_size',
      help: 'Jobs queued.',
      async collect() {
        if (fail) throw new Error('database is down')
        this.set(12)
      },
    })
    expect(valueOf((await app.inject('/metrics')).body, 'queue_size')).toBe(12)
    fail = true
    const res = await app.inject('/metrics')
    expect(res.statusCode).toBe(200)
    expect(valueOf(res.body, 'queue_size')).toBe(12)
    expect(lines.some((line) => line.includes('queue_size') && line.includes('database is down'))).toBe(true)
  })

  it('exposes the names other opskit plugins publish under', async () => {
    app = await buildApp({ defaultMetrics: false, prefix: 'svc_' })
    const rejections = app.metrics.counter(OPSKIT_METRICS.rateLimitRejections)
    rejections.inc({ route: '/login' })
    expect(app.metrics.counter(OPSKIT_METRICS.rateLimitRejections)).toBe(rejections)
    expect(valueOf((await app.inject('/metrics')).body, 'svc_rate_limit_rejections_total{route="/login"}')).toBe(1)
  })
})

describe('metricsOf and labelCap', () => {
  it('metricsOf() is fastify.metrics where the plugin is registered, undefined where it is not', async () => {
    app = await buildApp({ defaultMetrics: false })
    expect(metricsOf(app)).toBe(app.metrics)
    const bare = Fastify()
    await bare.ready()
    expect(metricsOf(bare)).toBeUndefined()
    await bare.close()
  })

  it('labelCap() passes the first N distinct values and folds every later new one into "other"', () => {
    const cap = labelCap(2)
    expect(['a', 'b', 'c', 'a', 'd', 'b'].map(cap)).toEqual(['a', 'b', 'other', 'a', 'other', 'b'])
    expect(labelCap(1, 'overflow')('x')).toBe('x')
    expect(() => labelCap(0)).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_CORE_INVALID_LABEL_CAP', message: expect.stringContaining('positive integer, got 0') }))
  })
})

describe('fastify.metrics.red()', () => {
  const pair = {
    total: { name: 'calls_total', help: 'Calls.' },
    duration: { name: 'call_duration_seconds', help: 'Call duration.', buckets: [0.1, 1] },
    labelNames: ['service', 'status_code'],
  }

  it('counts and times each observation in both metrics, in both formats, and the scrape passes promtool', async () => {
    app = await buildApp({ defaultMetrics: false })
    const red = app.metrics.red(pair)
    const ok = red.labels('billing', '200')
    ok.observe(0.05)
    ok.observe(0.5)
    red.labels('billing', '500').observe(3)
    expect(app.metrics.red(pair)).toBe(red)
    const text = (await app.inject('/metrics')).body
    expect(valueOf(text, 'calls_total{service="billing",status_code="200"}')).toBe(2)
    expect(valueOf(text, 'calls_total{service="billing",status_code="500"}')).toBe(1)
    expect(valueOf(text, 'call_duration_seconds_bucket{le="0.1",service="billing",status_code="200"}')).toBe(1)
    expect(valueOf(text, 'call_duration_seconds_bucket{le="1",service="billing",status_code="200"}')).toBe(2)
    expect(valueOf(text, 'call_duration_seconds_bucket{le="+Inf",service="billing",status_code="500"}')).toBe(1)
    expect(valueOf(text, 'call_duration_seconds_sum{service="billing",status_code="200"}')).toBeCloseTo(0.55)
    expect(text).toContain('# TYPE call_duration_seconds histogram')
    if (hasPromtool) expect((await promtoolCheckMetrics(text)).code).toBe(0)
    const om = (await app.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text' } })).body
    expect(om).toContain('calls_total{service="billing",status_code="200"} 2')
    expect(om).toContain('call_duration_seconds_count{service="billing",status_code="500"} 1')
  })

  it('counter() / histogram() of a pair name give handles on the same series; another type or other labels conflict', async () => {
    app = await buildApp({ defaultMetrics: false })
    app.metrics.red(pair).labels('billing', '200').observe(0.2)
    const counter = app.metrics.counter({ name: 'calls_total', help: 'Calls.', labelNames: ['service', 'status_code'] })
    expect(app.metrics.counter({ name: 'calls_total', help: 'Calls.', labelNames: ['service', 'status_code'] })).toBe(counter)
    expect((await counter.get()).values).toEqual([{ labels: { service: 'billing', status_code: '200' }, value: 1 }])
    counter.inc({ service: 'billing', status_code: '200' }, 2)
    app.metrics.histogram({ name: 'call_duration_seconds', help: 'x', labelNames: ['service', 'status_code'] }).observe({ service: 'billing', status_code: '200' }, 0.3)
    const text = (await app.inject('/metrics')).body
    expect(valueOf(text, 'calls_total{service="billing",status_code="200"}')).toBe(3)
    expect(valueOf(text, 'call_duration_seconds_count{service="billing",status_code="200"}')).toBe(2)
    // A counter never goes down, through either form of inc(); nothing is added by a refused call.
    expect(() => counter.inc({ service: 'billing', status_code: '200' }, -1)).toThrow(/finite number ≥ 0, got -1/)
    expect(() => counter.labels('billing', '200').inc(Number.NaN)).toThrow(TypeError)
    expect(() => counter.inc({ region: 'eu' } as never)).toThrow(/has no label "region"/)
    expect(valueOf((await app.inject('/metrics')).body, 'calls_total{service="billing",status_code="200"}')).toBe(3)
    const conflict = { code: 'FST_OPSKIT_METRICS_METRIC_CONFLICT' }
    expect(() => app!.metrics.gauge({ name: 'calls_total', help: 'x' })).toThrow(expect.objectContaining(conflict))
    expect(() => app!.metrics.counter({ name: 'calls_total', help: 'x', labelNames: ['other'] })).toThrow(expect.objectContaining(conflict))
    expect(() => app!.metrics.red({ ...pair, labelNames: ['other'] })).toThrow(expect.objectContaining(conflict))
    expect(() => app!.metrics.red({ ...pair, total: { name: 'http_requests_total', help: 'x' } })).toThrow(expect.objectContaining(conflict))
  })

  it('counts into prom-client metrics your code registered first under the same names', async () => {
    app = await buildApp({ defaultMetrics: false })
    const counter = app.metrics.counter({ name: 'calls_total', help: 'Calls.', labelNames: ['service', 'status_code'] })
    app.metrics.red(pair).labels('billing', '200').observe(0.2)
    expect((await counter.get()).values).toEqual([{ labels: { service: 'billing', status_code: '200' }, value: 1 }])
    expect(valueOf((await app.inject('/metrics')).body, 'call_duration_seconds_count{service="billing",status_code="200"}')).toBe(1)
  })

  it('refuses a bad config, a wrong number of label values and a value that is no number', async () => {
    app = await buildApp({ defaultMetrics: false })
    expect(() => app!.metrics.red({ total: { name: 'a_total', help: 'a' } } as never)).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_METRICS_INVALID_METRIC', message: expect.stringContaining('red()') }))
    expect(() => app!.metrics.red({ ...pair, total: { name: 'b_total', help: 'b' }, duration: { name: 'b_seconds', help: 'b', buckets: [1, 0.5] } })).toThrow(/duration\.buckets/)
    const red = app.metrics.red(pair)
    expect(() => red.labels('billing')).toThrow(/needs 2 values \(service, status_code\), got 1/)
    expect(() => red.labels('billing', '200').observe(Number.NaN)).toThrow(TypeError)
  })
})
