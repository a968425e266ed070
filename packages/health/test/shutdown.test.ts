import { afterEach, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { connectError, heldRoute, logWatch, portOf, probe as get, stoppedListening } from '../../../test-utils/shutdown-sockets.js'
import { buildApp, sleep } from './helpers.js'

let app: FastifyInstance | undefined
let closing: Promise<void> | undefined
afterEach(async () => {
  await closing
  closing = undefined
  app = undefined
})

const DRAINING = 'health: readiness is shutting_down'

describe('graceful shutdown over real sockets', () => {
  // Regression: with shutdownDelayMs the drain was not observable as documented. The fix works with
  // Fastify's lifecycle: a preClose hook that flips readiness and awaits the delay before Fastify
  // calls server.close(), with return503OnClosing: false so every route keeps serving meanwhile.
  it('during shutdownDelayMs a new connection gets readiness 503 shutting_down and 200 elsewhere, an in-flight request finishes, then the port closes', async () => {
    const logs = logWatch()
    app = await buildApp({ shutdownDelayMs: 600, checks: { db: async () => undefined } }, { return503OnClosing: false, logger: { level: 'info', stream: logs.stream } })
    const { entered: started, release } = heldRoute(app, '/work')
    app.get('/other', async () => ({ ok: true }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = portOf(app)
    const base = `http://127.0.0.1:${port}`
    expect(await get(`${base}/health/ready`)).toMatchObject({ status: 200, body: { status: 'ok' } })

    const inFlight = fetch(`${base}/work`, { headers: { connection: 'close' } }).then(async (res) => ({ status: res.status, body: await res.json() }))
    await started
    const closeStarted = Date.now()
    closing = app.close()
    await logs.seen(DRAINING)

    // The drain window: new connections are accepted and every route serves, readiness says shutting_down.
    expect(app.health.shuttingDown).toBe(true)
    expect(await get(`${base}/health/ready`)).toEqual({ status: 503, body: { status: 'shutting_down' } })
    expect(await get(`${base}/health/live`)).toMatchObject({ status: 200, body: { status: 'ok' } })
    expect(await get(`${base}/other`)).toEqual({ status: 200, body: { ok: true } })
    expect(await get(`${base}/health/db`)).toMatchObject({ status: 200, body: { status: 'ok' } })

    // After the window the listener closes while the in-flight request is still running...
    await stoppedListening(app)
    expect(Date.now() - closeStarted).toBeGreaterThanOrEqual(590)
    expect(await connectError(port)).toBe('ECONNREFUSED')
    // ...and that request still finishes.
    release()
    expect(await inFlight).toEqual({ status: 200, body: { done: true } })
    await closing
    expect(logs.lines().filter((line) => line.level === 40)).toEqual([])
  })

  it('without a delay the port closes as soon as close() starts; in-flight requests still finish', async () => {
    app = await buildApp({}, { return503OnClosing: false })
    const { entered: started, release } = heldRoute(app, '/work')
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = portOf(app)
    const inFlight = fetch(`http://127.0.0.1:${port}/work`, { headers: { connection: 'close' } }).then((res) => res.status)
    await started
    closing = app.close()
    await stoppedListening(app)
    expect(app.health.shuttingDown).toBe(true)
    expect(await connectError(port)).toBe('ECONNREFUSED')
    release()
    expect(await inFlight).toBe(200)
    await closing
  })

  it("WARNs at register() when shutdownDelayMs is set on a Fastify with the default return503OnClosing (every route, readiness included, gets Fastify's 503)", async () => {
    const logs = logWatch()
    app = await buildApp({ shutdownDelayMs: 300 }, { logger: { level: 'info', stream: logs.stream } })
    app.get('/other', async () => ({ ok: true }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const warns = logs.lines().filter((line) => line.level === 40)
    expect(warns).toHaveLength(1)
    expect(warns[0]?.msg).toContain('return503OnClosing: false')
    const base = `http://127.0.0.1:${portOf(app)}`
    closing = app.close()
    await logs.seen(DRAINING)
    // Still a 503 for the load balancer, but Fastify's own body, as the WARN said.
    expect((await get(`${base}/health/ready`)).status).toBe(503)
    expect((await get(`${base}/other`)).status).toBe(503)
    await closing
  })

  it('no WARN with return503OnClosing: false, nor without a delay', async () => {
    for (const [health, server] of [[{ shutdownDelayMs: 300 }, { return503OnClosing: false }], [{}, {}]] as const) {
      const logs = logWatch()
      const instance = await buildApp(health, { ...server, logger: { level: 'info', stream: logs.stream } })
      await instance.ready()
      await instance.close()
      expect(logs.lines().filter((line) => line.level === 40)).toEqual([])
    }
  })

  it('waits shutdownDelayMs in close() only while listening, and leaves no timer behind', async () => {
    app = await buildApp({ shutdownDelayMs: 200 })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const started = Date.now()
    await app.close()
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    const injectOnly = await buildApp({ shutdownDelayMs: 5000 })
    await injectOnly.ready()
    const at = Date.now()
    await injectOnly.close()
    expect(Date.now() - at).toBeLessThan(2000)
  })
})

describe('resources', () => {
  it('leaves no timer or server handle behind after close (check timeouts, shutdown delay, event-loop monitor)', async () => {
    const { eventLoopCheck } = await import('@opskit/health')
    const count = (type: string) => process.getActiveResourcesInfo().filter((t) => t === type).length
    const timersBefore = count('Timeout')
    const serversBefore = count('TCPServerWrap')
    const instance = await buildApp({
      shutdownDelayMs: 20,
      checks: { loop: eventLoopCheck({ maxDelayMs: 1000 }), fast: async () => undefined, hung: { check: () => new Promise(() => undefined), timeoutMs: 30, critical: false } },
    })
    await instance.listen({ port: 0, host: '127.0.0.1' })
    expect((await instance.inject('/health/ready')).json().services.hung.error).toBe('timeout')
    await instance.close()
    await sleep(20)
    expect(count('Timeout')).toBeLessThanOrEqual(timersBefore)
    expect(count('TCPServerWrap')).toBeLessThanOrEqual(serversBefore)
  })
})
