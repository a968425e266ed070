import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { isValidRequestId, opskitCore, requestIdGenerator } from '@opskit/core'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

let app: FastifyInstance
afterEach(() => app?.close())

async function build(): Promise<FastifyInstance> {
  app = Fastify({ genReqId: requestIdGenerator() })
  await app.register(opskitCore)
  app.get('/echo', async (request) => ({ id: request.id }))
  app.get('/boom', async () => {
    throw new Error('kaboom')
  })
  app.post('/validated', { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } }, async () => ({ ok: true }))
  return app
}

/** Sends a raw request over a real socket, so header bytes are exactly what a client sent. */
async function rawGet(port: number, path: string, headerLines: string[]): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { connect } = await import('node:net')
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write([`GET ${path} HTTP/1.1`, 'Host: localhost', 'Connection: close', ...headerLines, '', ''].join('\r\n'))
  let data = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => (data += chunk))
  await once(socket, 'end')
  const [head = '', body = ''] = data.split('\r\n\r\n')
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const i = line.indexOf(':')
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim()
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body }
}

describe('requestIdGenerator', () => {
  it('accepts ids of 1–128 safe characters and nothing else', () => {
    expect(isValidRequestId('abc-123_x.y:z')).toBe(true)
    expect(isValidRequestId('a'.repeat(128))).toBe(true)
    expect(isValidRequestId('a'.repeat(129))).toBe(false)
    expect(isValidRequestId('')).toBe(false)
    expect(isValidRequestId('has space')).toBe(false)
    expect(isValidRequestId('line\r\nbreak')).toBe(false)
    expect(isValidRequestId(['a', 'b'])).toBe(false)
  })

  it('reuses a valid incoming x-request-id over real HTTP and echoes it', async () => {
    await (await build()).listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    const res = await fetch(`http://127.0.0.1:${port}/echo`, { headers: { 'x-request-id': 'client-abc.123' } })
    expect(res.headers.get('x-request-id')).toBe('client-abc.123')
    expect(await res.json()).toEqual({ id: 'client-abc.123' })
  })

  it('replaces an incoming id of 200 characters with a fresh UUID', async () => {
    await (await build()).listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    const res = await fetch(`http://127.0.0.1:${port}/echo`, { headers: { 'x-request-id': 'a'.repeat(200) } })
    expect(res.headers.get('x-request-id')).toMatch(UUID)
  })

  it('replaces an incoming id with spaces, and an empty one', async () => {
    await (await build()).listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    const spaced = await rawGet(port, '/echo', ['X-Request-Id: evil id with spaces'])
    expect(spaced.headers['x-request-id']).toMatch(UUID)
    const empty = await rawGet(port, '/echo', ['X-Request-Id: '])
    expect(empty.headers['x-request-id']).toMatch(UUID)
  })

  it('honours a custom header name for reading and echoing', async () => {
    app = Fastify({ genReqId: requestIdGenerator({ header: 'x-correlation-id' }) })
    await app.register(opskitCore, { requestIdHeader: 'x-correlation-id' })
    app.get('/echo', async (request) => ({ id: request.id }))
    const res = await app.inject({ url: '/echo', headers: { 'x-correlation-id': 'corr-1' } })
    expect(res.headers['x-correlation-id']).toBe('corr-1')
    expect(res.json()).toEqual({ id: 'corr-1' })
  })

  it('falls back to a UUID when an http.request client sends a CRLF-free but over-long id', async () => {
    await (await build()).listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    const status = await new Promise<{ id: string | undefined }>((resolve, reject) => {
      const req = httpRequest({ port, host: '127.0.0.1', path: '/echo', headers: { 'x-request-id': 'x'.repeat(129) } }, (res) => {
        res.resume()
        resolve({ id: res.headers['x-request-id'] as string | undefined })
      })
      req.on('error', reject)
      req.end()
    })
    expect(status.id).toMatch(UUID)
  })
})

describe('request_id in responses', () => {
  it('is on 404s, validation 400s and thrown 500s, header and body, keeping Fastify’s error shape', async () => {
    await build()
    const notFound = await app.inject({ url: '/nope', headers: { 'x-request-id': 'req-404' } })
    expect(notFound.statusCode).toBe(404)
    expect(notFound.headers['x-request-id']).toBe('req-404')
    expect(notFound.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'Route GET:/nope not found', request_id: 'req-404' })

    const invalid = await app.inject({ method: 'POST', url: '/validated', payload: {}, headers: { 'x-request-id': 'req-400' } })
    expect(invalid.statusCode).toBe(400)
    expect(invalid.headers['x-request-id']).toBe('req-400')
    expect(invalid.json()).toMatchObject({ statusCode: 400, code: 'FST_ERR_VALIDATION', error: 'Bad Request', request_id: 'req-400' })

    const thrown = await app.inject({ url: '/boom', headers: { 'x-request-id': 'req-500' } })
    expect(thrown.statusCode).toBe(500)
    expect(thrown.headers['x-request-id']).toBe('req-500')
    expect(thrown.json()).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'kaboom', request_id: 'req-500' })
    expect(Number(thrown.headers['content-length'])).toBe(Buffer.byteLength(thrown.body))
  })

  it('leaves error bodies of other shapes alone', async () => {
    app = Fastify({ genReqId: requestIdGenerator() })
    await app.register(opskitCore)
    app.get('/custom', async (_request, reply) => reply.code(409).send({ reason: 'taken' }))
    const res = await app.inject({ url: '/custom' })
    expect(res.json()).toEqual({ reason: 'taken' })
  })
})

describe('options', () => {
  it('rejects a bad requestIdHeader at register(), naming it', async () => {
    app = Fastify()
    await expect(app.register(opskitCore, { requestIdHeader: 'bad header\r\n' })).rejects.toThrow(/requestIdHeader/)
  })

  it('rejects a resolveActor that is not a function, naming it', async () => {
    app = Fastify()
    await expect(app.register(opskitCore, { resolveActor: 'nope' as never })).rejects.toThrow(/resolveActor/)
  })
})
