import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { getRequestContext, opskitCore, requestIdGenerator } from '@opskit/core'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { FST_OPSKIT_ERROR_REPORTS_INVALID_OPTION, opskitErrorReports } from '../src/index.js'
import type { OpskitErrorReportsOptions } from '../src/index.js'
import { startIngest } from './ingest.js'
import { expectOptionError, registerError } from '../../../test-utils/server-register.js'
import type { Ingest } from './ingest.js'

function captureLogs() {
  const chunks: string[] = []
  const stream = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb() } })
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>) }
}

async function buildApp(options: OpskitErrorReportsOptions, logs?: ReturnType<typeof captureLogs>, setup?: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  const app = Fastify({ logger: logs ? { level: 'info', stream: logs.stream } : false, genReqId: requestIdGenerator() })
  await app.register(opskitCore, {
    resolveActor: (req) => (typeof req.headers['x-user'] === 'string' ? { id: req.headers['x-user'], email: 'carol@example.com' } : null),
  })
  setup?.(app)
  await app.register(opskitErrorReports, options)
  app.post('/orders/:id', async () => {
    throw new Error('payment failed for carol@example.com, password=pw-in-message, key sk_live_4eC39HqLyjWDarjtT1zdp7dc')
  })
  app.get('/missing', async (_req, reply) => reply.code(404).send({ error: 'nope' }))
  app.get('/bad', async () => {
    throw Object.assign(new Error('bad input'), { statusCode: 400 })
  })
  app.get('/unavailable', async () => {
    throw Object.assign(new Error('upstream down'), { statusCode: 503 })
  })
  await app.ready()
  return app
}

describe('error reports to a local Sentry ingest (the real SDK, the real envelopes)', () => {
  let app: FastifyInstance | undefined
  let ingest: Ingest | undefined
  afterEach(async () => {
    await app?.close()
    app = undefined
    await ingest?.close()
    ingest = undefined
  })

  it('a 5xx is sent with request_id, route, method and user.id tags, and nothing private', async () => {
    ingest = await startIngest()
    app = await buildApp({ dsn: ingest.dsn, environment: 'staging', release: '1.4.2' })
    const res = await app.inject({
      method: 'POST',
      url: '/orders/42?token=abc123secret',
      headers: { 'x-user': 'u-7', authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZw', cookie: 'sid=s3cr3t-cookie', 'x-request-id': 'req-abc-1', 'content-type': 'application/json' },
      payload: { card: '4111111111111111', password: 'hunter2', note: 'body-marker' },
    })
    expect(res.statusCode).toBe(500)
    await ingest.received(1)
    const [event] = ingest.events()
    expect(ingest.envelopes[0]!.url).toMatch(/^\/api\/1\/envelope\/\?sentry_version=7&sentry_key=publickey/)
    expect(event.tags).toEqual({ request_id: 'req-abc-1', route: '/orders/:id', method: 'POST', 'user.id': 'u-7' })
    expect(event.user).toEqual({ id: 'u-7' })
    expect(event.environment).toBe('staging')
    expect(event.release).toBe('1.4.2')
    expect(event.exception.values[0]).toMatchObject({ type: 'Error', value: 'payment failed for c***l@example.com, password=[REDACTED], key [REDACTED]' })
    expect(event.request).toMatchObject({ method: 'POST', url: '/orders/42' })
    const raw = ingest.envelopes[0]!.raw
    for (const secret of ['carol@example.com', 'pw-in-message', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'hunter2', '4111111111111111', 'body-marker', 's3cr3t-cookie', 'eyJhbGciOiJIUzI1NiJ9', 'abc123secret']) {
      expect(raw).not.toContain(secret)
    }
    expect(Object.keys(event.request.headers)).not.toContain('authorization')
    expect(Object.keys(event.request.headers)).not.toContain('cookie')
  })

  it('trace_id is the request context\'s trace id when it has one', async () => {
    ingest = await startIngest()
    app = await buildApp({ dsn: ingest.dsn }, undefined, (a) => {
      a.addHook('onRequest', async () => {
        // What core's trace context sets (traceparent / OpenTelemetry).
        Object.assign(getRequestContext()!, { traceId: '0af7651916cd43dd8448eb211c80319c' })
      })
    })
    await app.inject({ method: 'POST', url: '/orders/7' })
    await ingest.received(1)
    expect(ingest.events()[0].tags).toMatchObject({ trace_id: '0af7651916cd43dd8448eb211c80319c', route: '/orders/:id' })
  })

  it('4xx are not reported; a 503 thrown with statusCode is', async () => {
    ingest = await startIngest()
    app = await buildApp({ dsn: ingest.dsn })
    expect((await app.inject('/missing')).statusCode).toBe(404)
    expect((await app.inject('/bad')).statusCode).toBe(400)
    expect((await app.inject('/nowhere')).statusCode).toBe(404)
    expect((await app.inject('/unavailable')).statusCode).toBe(503)
    await ingest.received(1)
    expect(await app.errorReports.flush()).toBe(true)
    expect(ingest.events().map((e) => e.exception.values[0].value)).toEqual(['upstream down'])
  })

  it('close() flushes an event still on its way', async () => {
    ingest = await startIngest()
    app = await buildApp({ dsn: ingest.dsn })
    await app.inject({ method: 'POST', url: '/orders/1' })
    await app.close()
    app = undefined
    expect(ingest.events()).toHaveLength(1)
  })

  it('an ingest that answers 500, refuses or hangs never blocks a request, and close() stays within flushTimeoutMs', async () => {
    for (const mode of ['500', 'refused', 'hang'] as const) {
      let dsn: string
      if (mode === 'refused') {
        const s = createServer()
        await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
        const { port } = s.address() as AddressInfo
        await new Promise<void>((r) => s.close(() => r()))
        dsn = `http://publickey@127.0.0.1:${port}/1`
      } else {
        ingest = await startIngest(() => (mode === 'hang' ? 'hang' : 500))
        dsn = ingest.dsn
      }
      const logs = captureLogs()
      app = await buildApp({ dsn, flushTimeoutMs: 300 }, logs)
      const started = performance.now()
      for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'POST', url: '/orders/1' })).statusCode).toBe(500)
      expect(performance.now() - started).toBeLessThan(1000)
      const closing = performance.now()
      await app.close()
      app = undefined
      expect(performance.now() - closing, mode).toBeLessThan(1500)
      if (mode === 'hang') expect(logs.lines().some((l) => l.msg === '@opskit/error-reports: closed with error reports still unsent')).toBe(true)
      await ingest?.close()
      ingest = undefined
    }
  })

  it('an uncaught exception is reported without the request context', async () => {
    ingest = await startIngest()
    app = await buildApp({ dsn: ingest.dsn })
    // Another listener is present, so the plugin reports and leaves the process alone.
    const keepAlive = (): void => undefined
    process.on('uncaughtException', keepAlive)
    onTestFinished(() => {
      process.off('uncaughtException', keepAlive)
    })
    process.emit('uncaughtException', new Error('worker crashed, password=hunter2'))
    await ingest.received(1)
    const [event] = ingest.events()
    expect(event.exception.values[0].value).not.toContain('hunter2')
    expect(event.exception.values[0].mechanism).toMatchObject({ type: 'onerror', handled: false })
    expect(event.tags ?? {}).not.toHaveProperty('request_id')
  })

  it('an uncaught exception with no other listener: reported, flushed, then exit(1) as Node would, even with two instances', async () => {
    ingest = await startIngest()
    const other = await startIngest()
    const second = await buildApp({ dsn: other.dsn })
    app = await buildApp({ dsn: ingest.dsn })
    const foreign = process.listeners('uncaughtException').filter((l) => !(Symbol.for('@opskit/error-reports.listener') in l))
    for (const l of foreign) process.off('uncaughtException', l)
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      process.emit('uncaughtException', new Error('fatal one'))
      // The SDK marks an error once captured: the instance whose listener runs first reports it.
      await Promise.race([ingest.received(1), other.received(1)])
      // Each instance's listener exits once its own flush is over (in a real process the first one ends it).
      await vi.waitFor(() => expect(exit.mock.calls).toEqual([[1], [1]]))
      expect([...ingest.events(), ...other.events()].map((e) => e.exception.values[0].value)).toEqual(['fatal one'])
    } finally {
      for (const l of foreign) process.on('uncaughtException', l)
      exit.mockRestore()
      stderr.mockRestore()
      await second.close()
      await other.close()
    }
  })

  it('two instances in one process report to their own DSN', async () => {
    ingest = await startIngest()
    const other = await startIngest()
    const second = await buildApp({ dsn: other.dsn, environment: 'second' })
    try {
      app = await buildApp({ dsn: ingest.dsn, environment: 'first' })
      await app.inject({ method: 'POST', url: '/orders/1' })
      await second.inject({ method: 'POST', url: '/orders/2' })
      await Promise.all([ingest.received(1), other.received(1)])
      expect(ingest.events().map((e) => e.environment)).toEqual(['first'])
      expect(other.events().map((e) => e.environment)).toEqual(['second'])
    } finally {
      await second.close()
      await other.close()
    }
  })

  it('without a DSN it does nothing and says so once at INFO; bad options name the option, never the DSN', async () => {
    const logs = captureLogs()
    const saved = process.env.SENTRY_DSN
    delete process.env.SENTRY_DSN
    try {
      app = await buildApp({}, logs)
      expect((await app.inject({ method: 'POST', url: '/orders/1' })).statusCode).toBe(500)
      expect(app.errorReports.enabled).toBe(false)
      expect(logs.lines().filter((l) => l.msg === '@opskit/error-reports: no SENTRY_DSN, error reports are off')).toMatchObject([{ level: 30 }])
    } finally {
      if (saved !== undefined) process.env.SENTRY_DSN = saved
    }
    const code = 'FST_OPSKIT_ERROR_REPORTS_INVALID_OPTION'
    const badDsn = await registerError(opskitErrorReports, { dsn: 'not-a-dsn-secretkey' })
    expectOptionError(badDsn, code, 'dsn')
    expect((badDsn as Error).message).not.toContain('secretkey')
    expectOptionError(await registerError(opskitErrorReports, { tracesSampleRate: 2 }), code, 'tracesSampleRate')
    const unknown = await registerError(opskitErrorReports, { sampleRte: 1 })
    expectOptionError(unknown, code, 'sampleRte')
    expect(unknown).toBeInstanceOf(FST_OPSKIT_ERROR_REPORTS_INVALID_OPTION)
  })
})
