import { afterEach, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, Summary } from 'prom-client'
import Fastify from 'fastify'
import { FST_METRICS_INVALID_OPTION, FST_OPSKIT_METRICS_INVALID_OPTION, OPSKIT_METRICS, labelCap, metricsOf } from '@opskit/metrics'
import { buildApp, valueOf } from './helpers.js'

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
