import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig, opskit, serverOptions } from '@opskit/suite'
import { connectError, logWatch, portOf, probe as get } from '../../../test-utils/shutdown-sockets.js'


let app: FastifyInstance | undefined
let closing: Promise<void> | undefined
afterEach(async () => {
  await (closing ?? app?.close())
  app = undefined
  closing = undefined
})

async function build(env: Record<string, string>): Promise<{ app: FastifyInstance; logs: ReturnType<typeof logWatch>; port: number }> {
  const logs = logWatch()
  const config = loadConfig(env)
  const instance = Fastify(serverOptions(config, { destination: logs.stream }))
  app = instance
  await instance.register(opskit, { config, audit: false, securityLog: false, rateLimit: false, metrics: false })
  instance.get('/hello', async () => ({ hello: 'world' }))
  await instance.listen({ port: 0, host: '127.0.0.1' })
  return { app: instance, logs, port: portOf(instance) }
}

const DRAINING = 'health: readiness is shutting_down'

describe('shutdown drain with the documented setup (serverOptions() + opskit)', () => {
  // Regression: right after SIGTERM new connections were refused and a load balancer never saw
  // 503 {"status":"shutting_down"}: the suite set no shutdownDelayMs, and Fastify's default
  // return503OnClosing answered every route with its own 503.
  it('ENVIRONMENT=production: for 5 s after close() starts, a new connection gets readiness 503 shutting_down and 200 elsewhere; then the port closes', async () => {
    const built = await build({ ENVIRONMENT: 'production', APP_VERSION: '1.0.0' })
    const base = `http://127.0.0.1:${built.port}`
    expect((await get(`${base}/health/ready`)).status).toBe(200)
    const started = Date.now()
    closing = built.app.close()
    await built.logs.seen(DRAINING)
    expect(built.logs.lines().find((line) => String(line.message).includes(DRAINING))).toMatchObject({ shutdown_delay_ms: 5000 })
    expect(await get(`${base}/health/ready`)).toEqual({ status: 503, body: { status: 'shutting_down' } })
    expect(await get(`${base}/hello`)).toEqual({ status: 200, body: { hello: 'world' } })
    expect(await get(`${base}/health/live`)).toMatchObject({ status: 200, body: { status: 'ok', version: '1.0.0' } })
    await closing
    expect(Date.now() - started).toBeGreaterThanOrEqual(4990)
    expect(await connectError(built.port)).toBe('ECONNREFUSED')
    // serverOptions() turned return503OnClosing off, so health had nothing to warn about (the
    // test's own probes are outbound calls of this process: @opskit/outbound WARNs their 503s).
    expect(built.logs.lines().filter((line) => line.level === 'WARN' && line.logger !== 'outbound')).toEqual([])
  })

  it('ENVIRONMENT=development: no drain delay, the port closes at once', async () => {
    const built = await build({ ENVIRONMENT: 'development' })
    const started = Date.now()
    await built.app.close()
    expect(Date.now() - started).toBeLessThan(2000)
    expect(await connectError(built.port)).toBe('ECONNREFUSED')
  })
})
