import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { getRequestContext, opskitCore } from '@opskit/core'
import { fastifyLoggingOptions, getLogger, opskitLogging } from '@opskit/logging'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, test } from 'vitest'
import { captureLogger, rawKeys, type LogLine } from './capture.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`

async function build() {
  const capture = captureLogger({ level: 'info' })
  const server = Fastify(fastifyLoggingOptions(capture.logger))
  app = server
  await server.register(opskitCore)
  await server.register(opskitLogging)
  server.get('/orders/:id', async (request) => {
    request.log.info('handler line')
    await new Promise((resolve) => setTimeout(resolve, 1))
    getLogger('pricing').info('priced')
    return { spanId: getRequestContext()?.spanId ?? null }
  })
  await server.listen({ port: 0, host: '127.0.0.1' })
  const port = (server.server.address() as { port: number }).port
  return { ...capture, port }
}

function get(port: number, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/orders/7', headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

function rawRequest(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head))
    let data = ''
    socket.on('data', (d) => (data += d))
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
  })
}

describe('trace_id and span_id on every line of a traced request (real HTTP)', () => {
  test('a valid traceparent: handler, getLogger and request completed lines carry its trace id and the request span id, once each', async () => {
    const { port, lines, raw } = await build()
    const res = await get(port, { traceparent: TRACEPARENT })
    expect(res.status).toBe(200)
    const spanId = (JSON.parse(res.body) as { spanId: string }).spanId
    expect(spanId).toMatch(/^[0-9a-f]{16}$/)
    await app!.close()
    const all = lines()
    for (const message of ['handler line', 'priced', 'request completed']) {
      const line = all.find((l) => l.message === message) as LogLine
      expect(line, message).toMatchObject({ trace_id: TRACE_ID, span_id: spanId })
    }
    for (const line of raw().trim().split('\n')) {
      const keys = rawKeys(line)
      expect(new Set(keys).size, line).toBe(keys.length)
    }
  })

  test('a request without traceparent has no trace_id / span_id keys', async () => {
    const { port, lines } = await build()
    await get(port)
    await app!.close()
    for (const line of lines()) {
      expect(line).not.toHaveProperty('trace_id')
      expect(line).not.toHaveProperty('span_id')
    }
  })

  test('hostile traceparent values (over-long, upper case, zero ids, version ff, CR/LF injection) never reach a line', async () => {
    const { port, lines, raw } = await build()
    const hostile = [
      `${TRACEPARENT}${'-a'.repeat(3000)}`,
      `00-${TRACE_ID.toUpperCase()}-00F067AA0BA902B7-01`,
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      `00-${TRACE_ID}-0000000000000000-01`,
      `ff-${TRACE_ID}-00f067aa0ba902b7-01`,
      `00-${TRACE_ID}-00f067aa0ba902b7-01-`,
      `00-${TRACE_ID}-00f067aa0ba902b7-01\t"}`,
    ]
    for (const traceparent of hostile) expect((await get(port, { traceparent })).status).toBe(200)
    // A CR/LF in the header over a raw socket: the header ends at the CR/LF, the rest is a header
    // of its own (or a 400); either way no trace id reaches a line.
    const reply = await rawRequest(port, `GET /orders/1 HTTP/1.1\r\nHost: x\r\nTraceparent: 00-${'ab'.repeat(8)}\r\n${'cd'.repeat(8)}-00f067aa0ba902b7-01\r\nConnection: close\r\n\r\n`)
    expect(reply).toMatch(/^HTTP\/1\.1 (200|400)/)
    await app!.close()
    const completed = lines().filter((l) => l.message === 'request completed')
    expect(completed.length).toBeGreaterThanOrEqual(hostile.length)
    for (const line of lines()) {
      expect(line).not.toHaveProperty('trace_id')
      expect(line).not.toHaveProperty('span_id')
    }
    expect(raw()).not.toContain(TRACE_ID)
    expect(raw()).not.toContain(TRACE_ID.toUpperCase())
  })
})
