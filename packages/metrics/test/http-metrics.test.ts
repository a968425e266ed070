import { once } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { heldRoute, portOf } from '../../../test-utils/shutdown-sockets.js'
import { buildApp, samples, valueOf } from './helpers.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

async function scrape(instance: FastifyInstance): Promise<string> {
  const res = await instance.inject('/metrics')
  expect(res.statusCode).toBe(200)
  return res.body
}

describe('HTTP RED metrics', () => {
  it('counts requests by method, route template and status code, never by raw URL', async () => {
    app = await buildApp()
    app.get('/users/:id', async () => ({ ok: true }))
    app.post('/users', async (_request, reply) => reply.code(201).send({ created: true }))
    app.get('/boom', async () => {
      throw new Error('boom')
    })
    await app.inject('/users/1')
    await app.inject('/users/2?x=1')
    await app.inject({ method: 'POST', url: '/users', payload: {} })
    await app.inject('/boom')

    const text = await scrape(app)
    expect(valueOf(text, 'http_requests_total{method="GET",route="/users/:id",status_code="200"}')).toBe(2)
    expect(valueOf(text, 'http_requests_total{method="POST",route="/users",status_code="201"}')).toBe(1)
    expect(valueOf(text, 'http_requests_total{method="GET",route="/boom",status_code="500"}')).toBe(1)
    expect(valueOf(text, 'http_request_duration_seconds_count{method="GET",route="/users/:id",status_code="200"}')).toBe(2)
    expect(valueOf(text, 'http_request_duration_seconds_bucket{method="GET",route="/users/:id",status_code="200",le="+Inf"}')).toBe(2)
    expect(valueOf(text, 'http_request_duration_seconds_sum{method="GET",route="/users/:id",status_code="200"}')).toBeGreaterThan(0)
    expect(text).not.toContain('/users/1')
    expect(text).toContain('# TYPE http_requests_total counter')
    expect(text).toContain('# TYPE http_request_duration_seconds histogram')
    expect(text).toContain('# TYPE http_requests_in_flight gauge')
  })

  it('folds every request that matches no route into route="unmatched": 10,000 random URLs add no series', async () => {
    app = await buildApp({ defaultMetrics: false })
    app.get('/known', async () => 'ok')
    await app.inject('/known')
    await app.inject('/first-miss')
    const before = samples(await scrape(app), 'http_').length

    for (let i = 0; i < 10_000; i++) await app.inject(`/scan/${Math.random().toString(36).slice(2)}/${i}`)

    const text = await scrape(app)
    expect(samples(text, 'http_').length).toBe(before)
    expect(valueOf(text, 'http_requests_total{method="GET",route="unmatched",status_code="404"}')).toBe(10_001)
    expect(text).not.toContain('/scan/')
  })

  it('counts a HEAD request once, under HEAD, on the GET route Fastify copied it from', async () => {
    app = await buildApp({ defaultMetrics: false })
    app.get('/page', async () => 'hello')
    await app.inject({ method: 'HEAD', url: '/page' })
    const text = await scrape(app)
    expect(valueOf(text, 'http_requests_total{method="HEAD",route="/page",status_code="200"}')).toBe(1)
    expect(valueOf(text, 'http_requests_total{method="GET",route="/page",status_code="200"}')).toBeUndefined()
  })

  it('leaves the scrape endpoint and routes with config.metrics = false out of the HTTP metrics', async () => {
    app = await buildApp({ defaultMetrics: false })
    app.get('/internal', { config: { metrics: false } }, async () => 'hidden')
    app.get('/public', async () => 'shown')
    await app.inject('/internal')
    await app.inject('/public')
    await scrape(app)
    const text = await scrape(app)
    expect(text).not.toContain('route="/internal"')
    expect(text).not.toContain('route="/metrics"')
    expect(valueOf(text, 'http_requests_total{method="GET",route="/public",status_code="200"}')).toBe(1)
  })

  it('rejects a route whose config.metrics is not a boolean', async () => {
    app = await buildApp({ defaultMetrics: false })
    expect(() => app!.get('/x', { config: { metrics: 'yes' as never } }, async () => 'x')).toThrow(/config\.metrics/)
  })

  it('uses the buckets option for the duration histogram', async () => {
    app = await buildApp({ defaultMetrics: false, buckets: [0.1, 1] })
    app.get('/b', async () => 'b')
    await app.inject('/b')
    const buckets = samples(await scrape(app), 'http_request_duration_seconds_bucket')
    expect(buckets.map((line) => /le="([^"]+)"/.exec(line)?.[1])).toEqual(['0.1', '1', '+Inf'])
  })

  it('applies the prefix option to the HTTP, process and helper metrics', async () => {
    app = await buildApp({ prefix: 'shop_' })
    app.metrics.counter({ name: 'orders_total', help: 'Orders placed.' }).inc()
    app.get('/p', async () => 'p')
    await app.inject('/p')
    const text = await scrape(app)
    expect(valueOf(text, 'shop_http_requests_total{method="GET",route="/p",status_code="200"}')).toBe(1)
    expect(text).toContain('shop_process_cpu_user_seconds_total')
    expect(valueOf(text, 'shop_orders_total')).toBe(1)
    expect(samples(text, 'http_')).toEqual([])
  })

  it('keeps the in-flight gauge right, also when a client hangs up before the answer', async () => {
    app = await buildApp({ defaultMetrics: false })
    const { entered, release } = heldRoute(app, '/slow', 'late')
    await app.listen({ port: 0, host: '127.0.0.1' })

    const abort = new AbortController()
    const pending = fetch(`http://127.0.0.1:${portOf(app)}/slow`, { signal: abort.signal }).catch(() => undefined)
    const request = await entered
    // The scrape itself is in flight too.
    expect(valueOf(await scrape(app), 'http_requests_in_flight')).toBe(2)
    const hungUp = once(request.raw.socket, 'close')
    abort.abort()
    await pending
    await hungUp
    release()
    // Only the scrape asking is left in flight once the abandoned request has ended.
    await vi.waitFor(async () => expect(valueOf(await scrape(app!), 'http_requests_in_flight')).toBe(1))
  })
})

describe('scrape rendering', () => {
  it("prints the HTTP series exactly as prom-client's registry would, escaping route labels", async () => {
    app = await buildApp({ defaultMetrics: false })
    app.get('/quote/:a', async () => 'q')
    app.get('/odd/"quoted"\\path', async () => 'odd')
    for (let i = 0; i < 20; i++) app.get(`/r${i}`, async () => i)
    for (let i = 0; i < 20; i++) await app.inject(`/r${i}`)
    await app.inject('/quote/x')
    await app.inject('/odd/%22quoted%22%5Cpath')
    await app.inject('/missing')
    const served = (await app.inject('/metrics')).body
    const reference = await app.metrics.registry.metrics()
    // The registry's own rendering runs outside a request, so nothing is in flight there.
    expect(served.replace('http_requests_in_flight 1', 'http_requests_in_flight 0')).toBe(reference)
    expect(served).toContain('route="/odd/\\"quoted\\"\\\\path"')
  })

  it('falls back to the registry when it has default labels', async () => {
    app = await buildApp({ defaultMetrics: false })
    app.metrics.registry.setDefaultLabels({ service: 'shop' })
    app.get('/d', async () => 'd')
    await app.inject('/d')
    expect((await app.inject('/metrics')).body).toContain('http_requests_total{method="GET",route="/d",status_code="200",service="shop"} 1')
  })
})
