import perfHooks from 'node:perf_hooks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { opskitCore } from '@opskit/core'
import { Registry } from 'prom-client'
import { REJECTED_DEFAULT_METRICS, opskitMetrics } from '@opskit/metrics'
import { buildApp, hasPromtool, promtoolCheckMetrics, valueOf } from './helpers.js'
import { routesAddedBy } from '../../../test-utils/server-routes.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

if (!hasPromtool) console.warn('[@opskit/metrics] promtool not found: skipped "a real scrape passes promtool check metrics"')

describe('GET /metrics', () => {
  it.skipIf(!hasPromtool)('a real scrape with default metrics on passes promtool check metrics', async () => {
    app = await buildApp()
    app.get('/orders/:id', async () => ({ id: 1 }))
    app.metrics.gauge({ name: 'open_orders', help: 'Orders not yet shipped.', collect() { this.set(3) } })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    await fetch(`http://127.0.0.1:${port}/orders/7`)
    await fetch(`http://127.0.0.1:${port}/nope`)
    const res = await fetch(`http://127.0.0.1:${port}/metrics`)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    expect(text).toContain('process_cpu_user_seconds_total')
    expect(text).toContain('nodejs_eventloop_lag_seconds')
    const { code, output } = await promtoolCheckMetrics(text)
    expect(output).toBe('')
    expect(code).toBe(0)
  })

  it("leaves out prom-client's three _total gauges that promtool rejects", async () => {
    app = await buildApp()
    const text = (await app.inject('/metrics')).body
    for (const name of REJECTED_DEFAULT_METRICS) expect(text).not.toContain(`${name} `)
    expect(text).toContain('nodejs_active_handles{')
  })

  it('answers 401 without the bearer token, and the metrics with it', async () => {
    app = await buildApp({ auth: { bearerToken: 's3cret-token' } })
    const none = await app.inject('/metrics')
    expect(none.statusCode).toBe(401)
    expect(none.headers['www-authenticate']).toBe('Bearer realm="metrics"')
    expect(none.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized', request_id: none.headers['x-request-id'] })
    expect(none.body).not.toContain('process_cpu')
    expect((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401)
    expect((await app.inject({ url: '/metrics', headers: { authorization: 's3cret-token' } })).statusCode).toBe(401)
    expect((await app.inject({ url: '/metrics', headers: { authorization: 'Basic s3cret-token' } })).statusCode).toBe(401)
    const ok = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer s3cret-token' } })
    expect(ok.statusCode).toBe(200)
    expect(ok.body).toContain('http_requests_in_flight')
  })

  it('serves the endpoint option path, and no route at all with endpoint: false', async () => {
    app = await buildApp({ endpoint: '/internal/prom' })
    expect((await app.inject('/internal/prom')).statusCode).toBe(200)
    expect((await app.inject('/metrics')).statusCode).toBe(404)
    await app.close()

    app = await buildApp({ endpoint: false })
    expect((await app.inject('/metrics')).statusCode).toBe(404)
    expect(await app.metrics.registry.metrics()).toContain('http_requests_total')
  })

  it('exempts the endpoint from rate limiting (config.rateLimit = false)', async () => {
    const added = await routesAddedBy(async (f) => {
      await f.register(opskitCore)
      await f.register(opskitMetrics)
    })
    app = added.app
    const route = added.routes.find((r) => r.url === '/metrics' && r.method === 'GET')
    expect(route?.config).toMatchObject({ rateLimit: false, metrics: false })
  })
})

describe('registries', () => {
  it('gives two instances in one process their own series', async () => {
    const a = await buildApp({ defaultMetrics: false })
    const b = await buildApp({ defaultMetrics: false })
    try {
      a.get('/a', async () => 'a')
      b.get('/b', async () => 'b')
      a.metrics.counter({ name: 'exports_total', help: 'Exports.' }).inc(5)
      await a.inject('/a')
      await a.inject('/a')
      await b.inject('/b')
      expect(a.metrics.registry).not.toBe(b.metrics.registry)
      const textA = (await a.inject('/metrics')).body
      const textB = (await b.inject('/metrics')).body
      expect(valueOf(textA, 'http_requests_total{method="GET",route="/a",status_code="200"}')).toBe(2)
      expect(textA).not.toContain('route="/b"')
      expect(valueOf(textB, 'http_requests_total{method="GET",route="/b",status_code="200"}')).toBe(1)
      expect(textB).not.toContain('route="/a"')
      expect(textB).not.toContain('exports_total')
      // Both may also collect process metrics at once without clashing.
      const c = await buildApp()
      const d = await buildApp()
      expect((await c.inject('/metrics')).statusCode).toBe(200)
      expect((await d.inject('/metrics')).statusCode).toBe(200)
      await c.close()
      await d.close()
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('uses the registry option, and refuses one that already holds an instance', async () => {
    const registry = new Registry()
    app = await buildApp({ registry, defaultMetrics: false })
    expect(app.metrics.registry).toBe(registry)
    app.get('/r', async () => 'r')
    await app.inject('/r')
    expect(await registry.metrics()).toContain('route="/r"')
    await expect(buildApp({ registry, defaultMetrics: false })).rejects.toMatchObject({ code: 'FST_OPSKIT_METRICS_INVALID_OPTION', message: expect.stringContaining('"registry"') })
  })

  it('empties its own registry when the instance closes', async () => {
    const instance = await buildApp()
    const { registry } = instance.metrics
    expect(registry.getMetricsAsArray().length).toBeGreaterThan(3)
    await instance.close()
    expect(registry.getMetricsAsArray()).toEqual([])
  })
})

describe('options', () => {
  it.each([
    [{ endpiont: '/m' }, 'endpiont'],
    [{ auth: { token: 'x' } }, 'auth.token'],
    [{ endpoint: 'metrics' }, 'endpoint'],
    [{ prefix: 'my-app' }, 'prefix'],
    [{ defaultMetrics: 'yes' }, 'defaultMetrics'],
    [{ buckets: [] }, 'buckets'],
    [{ buckets: [1, 0.5] }, 'buckets'],
    [{ buckets: [0, 1] }, 'buckets'],
    [{ auth: { bearerToken: '' } }, 'auth.bearerToken'],
    [{ auth: {} }, 'auth.bearerToken'],
    [{ registry: {} }, 'registry'],
  ])('rejects %j at register() naming %s', async (options, name) => {
    await expect(buildApp(options as never)).rejects.toMatchObject({
      code: 'FST_OPSKIT_METRICS_INVALID_OPTION',
      message: expect.stringContaining(`"${name}"`),
    })
  })
})

describe('resources', () => {
  it('leaves no timer or server handle behind after close', async () => {
    const count = (type: string) => process.getActiveResourcesInfo().filter((t) => t === type).length
    const timersBefore = count('Timeout')
    const serversBefore = count('TCPServerWrap')
    const instance = await buildApp()
    await instance.listen({ port: 0, host: '127.0.0.1' })
    expect((await instance.inject('/metrics')).statusCode).toBe(200)
    await instance.close()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(count('Timeout')).toBeLessThanOrEqual(timersBefore)
    expect(count('TCPServerWrap')).toBeLessThanOrEqual(serversBefore)
  })

  it('starts no new event-loop monitor per instance: building and closing apps leaves no sampler behind', async () => {
    // prom-client's default metrics start an event-loop-delay monitor and a GC observer they never stop.
    const monitors = vi.spyOn(perfHooks, 'monitorEventLoopDelay')
    try {
      for (let i = 0; i < 5; i++) {
        const instance = await buildApp({ prefix: 'leak_check_' })
        expect((await instance.inject('/metrics')).body).toContain('leak_check_nodejs_eventloop_lag_p99_seconds')
        await instance.close()
      }
      expect(monitors).toHaveBeenCalledTimes(1)
    } finally {
      monitors.mockRestore()
    }
  })
})
