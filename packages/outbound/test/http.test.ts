import diagnosticsChannel from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp, upstream, type TestApp, type Upstream } from './helpers.js'

// Node added `http.client.request.created` (published before the headers are sent) in 22.12 / 23.2;
// Node 20 has only `http.client.request.start`, published once the headers are on the wire.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
const NODE_HAS_CREATED = major > 22 || (major === 22 && minor >= 12)

const cert = readFileSync(new URL('./fixtures/localhost.crt', import.meta.url))
const key = readFileSync(new URL('./fixtures/localhost.key', import.meta.url))
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.()
})

/** The client requests Node published on `http.client.request.created`, to tell which path the observer took. */
function watchCreated(): Set<ClientRequest> {
  const seen = new Set<ClientRequest>()
  const onCreated = (message: unknown): void => void seen.add((message as { request: ClientRequest }).request)
  diagnosticsChannel.subscribe('http.client.request.created', onCreated)
  cleanup.push(async () => diagnosticsChannel.unsubscribe('http.client.request.created', onCreated))
  return seen
}

async function httpsUpstream(): Promise<Upstream> {
  const received: IncomingHttpHeaders[] = []
  const server = createHttpsServer({ cert, key }, (req: IncomingMessage, res: ServerResponse) => {
    received.push(req.headers)
    res.end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const up = {
    url: `https://127.0.0.1:${port}`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  cleanup.push(() => up.close())
  return up
}

async function httpUpstream(): Promise<Upstream> {
  const up = await upstream()
  cleanup.push(() => up.close())
  return up
}

/** A GET through node:http or node:https (by the URL's scheme); resolves with the ClientRequest once the body is read. */
function get(url: string, headers: Record<string, string> = {}): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest
    const req: ClientRequest = send(url, { headers, ca: cert, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(req))
    })
    req.on('error', reject)
    req.end()
  })
}

async function app(propagate: string[], routes: (fastify: TestApp['app']) => void): Promise<TestApp> {
  const built = await buildApp({ propagate })
  cleanup.push(() => built.app.close())
  routes(built.app)
  await built.app.ready()
  return built
}

describe(`node:http / node:https on Node ${process.versions.node} (${NODE_HAS_CREATED ? 'http.client.request.created' : 'no created channel: http.client.request.start'})`, () => {
  it('a call inside a traced request: x-request-id and traceparent reach a listed host (where Node has the created channel), and the call is logged with the trace', async () => {
    const plain = await httpUpstream()
    const tls = await httpsUpstream()
    const created = watchCreated()
    const clients: ClientRequest[] = []
    const { app: fastify, capture } = await app([`127.0.0.1:${plain.port}`, `127.0.0.1:${tls.port}`], (f) =>
      f.get('/both', async () => {
        clients.push(await get(`${plain.url}/plain`))
        clients.push(await get(`${tls.url}/tls`))
        return 'done'
      }),
    )
    const res = await fastify.inject({ url: '/both', headers: { traceparent: TRACEPARENT } })
    expect(res.body).toBe('done')
    const requestId = res.headers['x-request-id']
    const plainLine = await capture.call(`${plain.url}/plain`)
    const tlsLine = await capture.call(`${tls.url}/tls`)
    for (const line of [plainLine, tlsLine]) expect(line).toMatchObject({ level: 'INFO', method: 'GET', status_code: 200, request_id: requestId, trace_id: TRACE_ID })

    // Which path ran: the created channel fired for these very requests exactly where Node has it.
    expect(clients.every((c) => created.has(c))).toBe(NODE_HAS_CREATED)
    for (const headers of [plain.received[0], tls.received[0]]) {
      if (NODE_HAS_CREATED) {
        expect(headers?.['x-request-id']).toBe(requestId)
        expect(headers?.traceparent).toBe(`00-${TRACE_ID}-${plainLine.span_id as string}-01`)
      } else {
        // Node 20: the headers were on the wire before any channel spoke; the call is observed, not propagated.
        expect(headers?.['x-request-id']).toBeUndefined()
        expect(headers?.traceparent).toBeUndefined()
      }
    }
  })

  it('an unlisted host gets nothing, and a header the caller set is kept', async () => {
    const listed = await httpUpstream()
    const other = await httpUpstream()
    const { app: fastify, capture } = await app([`127.0.0.1:${listed.port}`], (f) =>
      f.get('/t', async () => {
        await get(`${other.url}/other`)
        await get(`${listed.url}/own`, { 'x-request-id': 'mine' })
        return 'ok'
      }),
    )
    await fastify.inject({ url: '/t', headers: { traceparent: TRACEPARENT } })
    await capture.call(`${listed.url}/own`)
    expect(other.received[0]?.['x-request-id']).toBeUndefined()
    expect(other.received[0]?.traceparent).toBeUndefined()
    expect(listed.received[0]?.['x-request-id']).toBe('mine')
    expect(listed.received[0]?.traceparent).toBe(NODE_HAS_CREATED ? `00-${TRACE_ID}-${(await capture.call(`${other.url}/other`)).span_id as string}-01` : undefined)
    expect(capture.calls()).toHaveLength(2)
  })
})
