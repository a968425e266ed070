import { afterEach, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp, portOf, sleep } from './helpers.js'

let app: FastifyInstance | undefined
let closing: Promise<void> | undefined
afterEach(async () => {
  await closing
  closing = undefined
  app = undefined
})

async function get(url: string): Promise<{ status: number; body: any }> {
  // A fresh connection each time, as a load balancer probe makes.
  const res = await fetch(url, { headers: { connection: 'close' } })
  return { status: res.status, body: await res.json() }
}

describe('graceful shutdown', () => {
  it('answers readiness 503 shutting_down from the moment close() starts, while in-flight requests finish', async () => {
    app = await buildApp({ shutdownDelayMs: 400, checks: { db: async () => undefined } }, { return503OnClosing: false })
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    app.get('/work', async () => {
      await held
      return { done: true }
    })
    app.get('/other', async () => ({ ok: true }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${portOf(app)}`
    expect(await get(`${base}/health/ready`)).toMatchObject({ status: 200, body: { status: 'ok' } })

    const inFlight = fetch(`${base}/work`).then(async (res) => ({ status: res.status, body: await res.json() }))
    await sleep(50)
    closing = app.close()
    await sleep(20)
    expect(app.health.shuttingDown).toBe(true)
    expect(await get(`${base}/health/ready`)).toEqual({ status: 503, body: { status: 'shutting_down' } })
    expect(await get(`${base}/health/live`)).toMatchObject({ status: 200, body: { status: 'ok' } })
    // With return503OnClosing: false the app keeps serving while the load balancer drains.
    expect(await get(`${base}/other`)).toEqual({ status: 200, body: { ok: true } })
    release()
    expect(await inFlight).toEqual({ status: 200, body: { done: true } })
    await closing
  })

  it("answers shutting_down with Fastify's default return503OnClosing too", async () => {
    app = await buildApp({ shutdownDelayMs: 300 })
    app.get('/other', async () => ({ ok: true }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${portOf(app)}`
    closing = app.close()
    await sleep(20)
    expect(await get(`${base}/health/ready`)).toEqual({ status: 503, body: { status: 'shutting_down' } })
    expect(await get(`${base}/health`)).toMatchObject({ status: 200, body: { status: 'ok' } })
    expect((await get(`${base}/other`)).status).toBe(503)
    await closing
  })

  it('flips fastify.health.shuttingDown as soon as close() starts, before the server stops', async () => {
    app = await buildApp({ shutdownDelayMs: 200 })
    await app.listen({ port: 0, host: '127.0.0.1' })
    expect(app.health.shuttingDown).toBe(false)
    closing = app.close()
    await sleep(20)
    expect(app.health.shuttingDown).toBe(true)
    expect(app.server.listening).toBe(true)
    await closing
    expect(app.server.listening).toBe(false)
  })

  it('waits shutdownDelayMs in close() and leaves no timer behind', async () => {
    app = await buildApp({ shutdownDelayMs: 200 })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const started = Date.now()
    await app.close()
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
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
