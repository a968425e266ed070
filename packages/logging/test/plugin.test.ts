import { opskitCore } from '@opskit/core'
import { fastifyLoggingOptions, opskitLogging, type OpskitLoggingOptions } from '@opskit/logging'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, test } from 'vitest'
import { captureLogger, type LogLine } from './capture.js'
import { expectOptionError, registerError } from '../../../test-utils/server-register.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

async function build(options: OpskitLoggingOptions = {}, level: 'info' | 'debug' = 'info') {
  const capture = captureLogger({ level })
  app = Fastify(fastifyLoggingOptions(capture.logger))
  await app.register(opskitCore, { resolveActor: (r) => (typeof r.headers['x-user-id'] === 'string' ? { id: r.headers['x-user-id'] } : null) })
  await app.register(opskitLogging, options)
  app.get('/items/:id', async () => ({ ok: true }))
  app.get('/boom', async () => {
    throw new Error('exploded')
  })
  app.get('/health', async () => ({ status: 'ok' }))
  app.get('/health/ready', async () => ({ status: 'ok' }))
  app.get('/metrics', async () => 'm 1')
  app.get('/healthy-cats', async () => ({ cats: 1 }))
  return capture
}

const completed = (lines: LogLine[]) => lines.filter((l) => l.message === 'request completed')

describe('opskitLogging plugin', () => {
  test('exactly one request completed line per request, with every field', async () => {
    const { lines } = await build()
    const res = await app!.inject({ url: '/items/5?secret=abc', headers: { 'user-agent': 'test-agent/1.0\r\nX-Evil: 1', 'x-user-id': 'u-1' } })
    const done = completed(lines())
    expect(done).toHaveLength(1)
    expect(done[0]).toEqual({
      timestamp: expect.any(String),
      level: 'INFO',
      logger: 'app',
      message: 'request completed',
      request_id: res.headers['x-request-id'],
      user_id: 'u-1',
      method: 'GET',
      path: '/items/5',
      route: '/items/:id',
      status_code: 200,
      duration_ms: expect.any(Number),
      ip: '127.0.0.1',
      user_agent: 'test-agent/1.0X-Evil: 1',
    })
    expect(done[0]!.duration_ms as number).toBeGreaterThanOrEqual(0)
    expect(JSON.stringify(done[0])).not.toContain('secret=abc')
    // Fastify's own request logging is off: no "incoming request" line
    expect(lines().some((l) => l.message === 'incoming request')).toBe(false)
  })

  test('redaction rules and serializers naming a request-line field apply to that field', async () => {
    const capture = captureLogger({ level: 'info', redact: ['ip', 'user_agent'] })
    app = Fastify(fastifyLoggingOptions(capture.logger))
    await app.register(opskitCore)
    await app.register(opskitLogging)
    app.get('/items/:id', async () => ({ ok: true }))
    app.get('/mail/:to', { logSerializers: { path: (value: unknown) => `<${String(value).length} chars>` } }, async () => ({ ok: true }))
    await app.inject({ url: '/items/1', headers: { 'user-agent': 'agent/1' } })
    await app.inject({ url: '/mail/ann@example.com' })
    const [items, mail] = completed(capture.lines())
    expect(items).toMatchObject({ path: '/items/1', route: '/items/:id', ip: '[REDACTED]', user_agent: '[REDACTED]' })
    expect(mail).toMatchObject({ path: '<21 chars>', route: '/mail/:to', ip: '[REDACTED]' })
    expect(capture.raw()).not.toContain('ann@example.com')
  })

  test('a URL the router cannot decode (answered before any hook) still carries x-request-id, request_id and a completed line', async () => {
    const { lines } = await build()
    const res = await app!.inject({ url: '/items/%E0%A4%A?q=1', headers: { 'x-request-id': 'bad-url-1' } })
    expect(res.statusCode).toBe(400)
    expect(res.headers['x-request-id']).toBe('bad-url-1')
    expect(res.json()).toMatchObject({ statusCode: 400, code: 'FST_ERR_BAD_URL', error: 'Bad Request', request_id: 'bad-url-1' })
    expect(completed(lines())).toEqual([
      expect.objectContaining({ level: 'INFO', request_id: 'bad-url-1', method: 'GET', path: '/items/%E0%A4%A', status_code: 400, ip: '127.0.0.1' }),
    ])
  })

  test('path is capped at 2048 characters: a 10 KB path on a 414, a 404 and the DEBUG received line', async () => {
    const { lines } = await build({}, 'debug')
    const long = 'a'.repeat(10_000)
    expect((await app!.inject({ url: `/items/${long}` })).statusCode).toBe(414) // over Fastify's maxParamLength
    expect((await app!.inject({ url: `/nope/${long}?q=1` })).statusCode).toBe(404)
    const logged = lines().filter((l) => typeof l.path === 'string')
    expect(logged.map((l) => l.message)).toEqual(['request completed', 'request received', 'request completed'])
    for (const line of logged) expect(line.path).toHaveLength(2048)
    expect(logged[0]!.path).toBe(`/items/${long}`.slice(0, 2048))
    expect(logged[2]!.path).toBe(`/nope/${long}`.slice(0, 2048))
  })

  test('a 404 has no route; a 5xx logs the completed line at ERROR', async () => {
    const { lines } = await build()
    await app!.inject({ url: '/nope' })
    await app!.inject({ url: '/boom' })
    const [notFound, failed] = completed(lines())
    expect(notFound).toMatchObject({ level: 'INFO', status_code: 404, path: '/nope' })
    expect(notFound).not.toHaveProperty('route')
    expect(failed).toMatchObject({ level: 'ERROR', status_code: 500, route: '/boom' })
  })

  test('ignorePaths: /health, /health/* and /metrics are not request-logged by default; other paths are', async () => {
    const { lines } = await build()
    for (const url of ['/health', '/health/ready', '/metrics', '/healthy-cats']) await app!.inject({ url })
    expect(completed(lines()).map((l) => l.path)).toEqual(['/healthy-cats'])
  })

  test('ignorePaths can be replaced', async () => {
    const { lines } = await build({ ignorePaths: ['/items/*'] })
    await app!.inject({ url: '/items/1' })
    await app!.inject({ url: '/health' })
    expect(completed(lines()).map((l) => l.path)).toEqual(['/health'])
  })

  test('request received is logged at DEBUG only when debug is enabled', async () => {
    const debug = await build({}, 'debug')
    await app!.inject({ url: '/items/1' })
    expect(debug.lines().filter((l) => l.message === 'request received')).toEqual([
      expect.objectContaining({ level: 'DEBUG', method: 'GET', path: '/items/1', request_id: expect.any(String) }),
    ])
    await app!.close()
    const info = await build({}, 'info')
    await app!.inject({ url: '/items/1' })
    expect(info.lines().some((l) => l.message === 'request received')).toBe(false)
  })

  test('level option sets the level of the completed line', async () => {
    const { lines } = await build({ level: 'debug' }, 'debug')
    await app!.inject({ url: '/items/1' })
    expect(completed(lines())[0]).toMatchObject({ level: 'DEBUG' })
  })

  describe('resource tracking', () => {
    const allowAdmins = { allow: (request: { headers: Record<string, unknown> }) => request.headers['x-role'] === 'admin' }

    test('on: the header (1 or true) from an allowed request adds cpu and rss figures', async () => {
      const { lines } = await build({ resourceTracking: allowAdmins })
      await app!.inject({ url: '/items/1', headers: { 'x-debug-resource-tracking': '1', 'x-role': 'admin' } })
      await app!.inject({ url: '/items/2', headers: { 'x-debug-resource-tracking': 'true', 'x-role': 'admin' } })
      for (const line of completed(lines())) {
        expect(line).toMatchObject({ cpu_user_ms: expect.any(Number), cpu_system_ms: expect.any(Number), rss_delta_bytes: expect.any(Number) })
        expect(line.cpu_user_ms as number).toBeGreaterThanOrEqual(0)
      }
      expect(completed(lines())).toHaveLength(2)
    })

    test('off: without the header, or with another value, nothing is added', async () => {
      const { lines } = await build({ resourceTracking: allowAdmins })
      await app!.inject({ url: '/items/1', headers: { 'x-role': 'admin' } })
      await app!.inject({ url: '/items/1', headers: { 'x-role': 'admin', 'x-debug-resource-tracking': 'yes' } })
      for (const line of completed(lines())) expect(line).not.toHaveProperty('cpu_user_ms')
    })

    test('not allowed: allow(request) false ignores the header', async () => {
      const { lines } = await build({ resourceTracking: allowAdmins })
      await app!.inject({ url: '/items/1', headers: { 'x-debug-resource-tracking': '1', 'x-role': 'guest' } })
      expect(completed(lines())[0]).not.toHaveProperty('cpu_user_ms')
    })

    test('not configured: the header does nothing', async () => {
      const { lines } = await build()
      await app!.inject({ url: '/items/1', headers: { 'x-debug-resource-tracking': '1' } })
      expect(completed(lines())[0]).not.toHaveProperty('rss_delta_bytes')
    })

    test('a custom header name', async () => {
      const { lines } = await build({ resourceTracking: { header: 'X-Trace-Cost', allow: () => true } })
      await app!.inject({ url: '/items/1', headers: { 'x-trace-cost': '1' } })
      expect(completed(lines())[0]).toHaveProperty('cpu_system_ms')
    })
  })

  test('invalid plugin options throw at register() naming the option', async () => {
    const cases: [OpskitLoggingOptions, string][] = [
      [{ ignorePaths: ['health'] }, 'ignorePaths'],
      [{ ignorePaths: 'x' as never }, 'ignorePaths'],
      [{ level: 'loud' as never }, 'level'],
      [{ resourceTracking: {} as never }, 'resourceTracking.allow'],
      [{ resourceTracking: { header: 'bad header', allow: () => true } }, 'resourceTracking.header'],
      [{ resourceTracking: { allow: () => true, headr: 'x-t' } as never }, 'resourceTracking.headr'],
      [{ ignorePath: ['/x'] } as never, 'ignorePath'],
    ]
    for (const [options, name] of cases) {
      expectOptionError(await registerError(opskitLogging, options), 'FST_OPSKIT_LOGGING_INVALID_OPTION', name)
    }
  })

  test('works without an opskit logger: the completed line still names request_id and user_id', async () => {
    const lines: string[] = []
    app = Fastify({
      logger: { level: 'info', stream: { write: (l: string) => void lines.push(l) } },
      logController: new LogController({ disableRequestLogging: true }),
    })
    await app.register(opskitCore, { resolveActor: () => ({ id: 'u-7' }) })
    await app.register(opskitLogging)
    app.get('/x', async () => 'x')
    const res = await app.inject({ url: '/x' })
    const done = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request completed')
    expect(done).toEqual([expect.objectContaining({ request_id: res.headers['x-request-id'], user_id: 'u-7', status_code: 200, route: '/x' })])
  })

  test('requires @opskit/core', async () => {
    const instance = Fastify()
    instance.register(opskitLogging)
    await expect(instance.ready()).rejects.toThrow(/@opskit\/core/)
  })
})
