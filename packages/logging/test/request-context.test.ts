import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { opskitCore, requestIdGenerator } from '@opskit/core'
import { fastifyLoggingOptions, getLogger, opskitLogging } from '@opskit/logging'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, test } from 'vitest'
import { captureLogger, rawKeys, type LogLine } from './capture.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

const ordersLog = getLogger('orders-service')

async function loadCustomer(id: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 1))
  return id
}
async function priceOrder(id: string): Promise<number> {
  await loadCustomer(id)
  await Promise.resolve()
  getLogger('pricing').info({ order: id }, 'priced')
  ordersLog.info({ order: id }, 'priced by module-level logger')
  return 10
}

async function build(options: { withLabel?: boolean } = {}) {
  const capture = captureLogger({ level: 'info' })
  const serverOptions =
    options.withLabel === false
      ? { loggerInstance: capture.logger, genReqId: requestIdGenerator(), logController: new LogController({ disableRequestLogging: true }) }
      : fastifyLoggingOptions(capture.logger)
  const server = Fastify(serverOptions)
  app = server
  await server.register(opskitCore, {
    resolveActor: (request) => {
      const id = request.headers['x-user-id']
      return typeof id === 'string' ? { id, role: 'member', tenantId: request.headers['x-tenant-id'] as string | undefined } : null
    },
  })
  await server.register(opskitLogging)
  server.get('/orders/:id', async (request) => {
    request.log.info('handler line')
    await priceOrder((request.params as { id: string }).id)
    return { ok: true }
  })
  await server.listen({ port: 0, host: '127.0.0.1' })
  const port = (server.server.address() as { port: number }).port
  return { ...capture, port }
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

function byMessage(lines: LogLine[], message: string): LogLine {
  const line = lines.find((l) => l.message === message)
  if (line === undefined) throw new Error(`no line "${message}" in ${JSON.stringify(lines)}`)
  return line
}

describe('request context on every line (real HTTP)', () => {
  for (const withLabel of [true, false]) {
    test(`request.log and getLogger lines three awaits deep carry request_id, user_id, tenant_id once (${withLabel ? 'request_id label via logController' : "Fastify's default reqId label"})`, async () => {
      const { port, lines, raw } = await build({ withLabel })
      const res = await get(port, '/orders/7?coupon=x', { 'x-user-id': 'u-42', 'x-tenant-id': 't-9', 'x-request-id': 'req-abc.123' })
      expect(res.status).toBe(200)
      expect(res.headers['x-request-id']).toBe('req-abc.123')
      await app!.close()
      const all = lines()
      for (const message of ['handler line', 'priced', 'priced by module-level logger', 'request completed']) {
        expect(byMessage(all, message)).toMatchObject({ request_id: 'req-abc.123', user_id: 'u-42', tenant_id: 't-9' })
      }
      expect(byMessage(all, 'priced').logger).toBe('pricing')
      expect(byMessage(all, 'priced by module-level logger').logger).toBe('orders-service')
      for (const line of raw().trim().split('\n')) {
        const keys = rawKeys(line)
        expect(new Set(keys).size, line).toBe(keys.length)
        expect(keys).not.toContain('reqId')
      }
    })
  }

  test('anonymous requests carry request_id but no user_id / tenant_id', async () => {
    const { port, lines } = await build()
    await get(port, '/orders/1')
    await app!.close()
    const line = byMessage(lines(), 'handler line')
    expect(line.request_id).toEqual(expect.any(String))
    expect(line).not.toHaveProperty('user_id')
    expect(line).not.toHaveProperty('tenant_id')
  })

  test('lines logged outside any request carry no request_id', async () => {
    const { lines } = await build()
    app!.log.info('boot')
    getLogger('jobs').info('tick')
    expect(byMessage(lines(), 'boot')).not.toHaveProperty('request_id')
    expect(byMessage(lines(), 'tick')).toMatchObject({ logger: 'jobs' })
    expect(byMessage(lines(), 'tick')).not.toHaveProperty('request_id')
  })

  test('x-request-id: 200 characters or spaces are replaced by a fresh UUID, in the response and in the logs', async () => {
    const { port, lines } = await build()
    const long = await get(port, '/orders/1', { 'x-request-id': 'a'.repeat(200) })
    const spaced = await get(port, '/orders/1', { 'x-request-id': 'has spaces in it' })
    await app!.close()
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
    expect(long.headers['x-request-id']).toMatch(uuid)
    expect(spaced.headers['x-request-id']).toMatch(uuid)
    const ids = lines().filter((l) => l.message === 'request completed').map((l) => l.request_id)
    expect(ids).toEqual([long.headers['x-request-id'], spaced.headers['x-request-id']])
  })

  test('x-request-id with CR/LF is replaced and never splits the response', async () => {
    const { port, lines } = await build()
    const injected = await app!.inject({ url: '/orders/1', headers: { 'x-request-id': 'abc\r\nset-cookie: evil=1' } })
    expect(injected.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(injected.headers['set-cookie']).toBeUndefined()
    // Over a raw socket the CRLF ends the header line: the server must not echo the injected header.
    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('GET /orders/1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\r\nSet-Cookie: evil=1\r\nConnection: close\r\n\r\n')
      })
      let data = ''
      socket.on('data', (d) => (data += d))
      socket.on('end', () => resolve(data))
      socket.on('error', reject)
    })
    expect(response).toMatch(/^HTTP\/1\.1 200/)
    expect(response.toLowerCase()).not.toContain('set-cookie')
    await app!.close()
    expect(JSON.stringify(lines())).not.toContain('evil')
  })
})
