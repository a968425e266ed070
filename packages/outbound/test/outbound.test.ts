import { request as httpRequest } from 'node:http'
import diagnosticsChannel from 'node:diagnostics_channel'
import net from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import Fastify from 'fastify'
import { contextOf, opskitCore, runJob } from '@opskit/core'
import { opskitLogging } from '@opskit/logging'
import { opskitOutbound } from '@opskit/outbound'
import { OPSKIT_METRICS, opskitMetrics } from '@opskit/metrics'
import { buildApp, scrape, upstream, valueOf, type TestApp, type Upstream } from './helpers.js'

const cleanup: (() => Promise<unknown>)[] = []
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown): void => void unhandled.push(reason)

beforeEach(() => {
  unhandled.length = 0
  process.on('unhandledRejection', onUnhandled)
})
afterEach(async () => {
  process.off('unhandledRejection', onUnhandled)
  while (cleanup.length > 0) await cleanup.pop()?.()
})

async function app(outbound?: Parameters<typeof buildApp>[0], core?: Parameters<typeof buildApp>[1], setup?: (fastify: TestApp['app']) => void): Promise<TestApp> {
  const built = await buildApp(outbound, core)
  cleanup.push(() => built.app.close())
  setup?.(built.app)
  await built.app.ready()
  return built
}

async function server(...args: Parameters<typeof upstream>): Promise<Upstream> {
  const s = await upstream(...args)
  cleanup.push(() => s.close())
  return s
}

function httpGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const { port } = s.address() as net.AddressInfo
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

describe('every call is one line and one sample', () => {
  it('fetch: service, method, url, status_code, duration_ms at INFO, counted by service, method and status', async () => {
    const up = await server()
    const { app: fastify, capture } = await app({ services: { inventory: `127.0.0.1:${up.port}` } })
    const res = await fetch(`${up.url}/items/42?page=2`)
    expect(await res.text()).toBe('ok')
    const line = await capture.call(up.url)
    expect(line).toMatchObject({ level: 'INFO', logger: 'outbound', service: 'inventory', method: 'GET', url: `${up.url}/items/42?page=2`, status_code: 200 })
    expect(typeof line.duration_ms).toBe('number')
    expect(line.request_id).toBeUndefined()
    const text = await scrape(fastify)
    expect(valueOf(text, 'http_client_requests_total{service="inventory",method="GET",status_code="200"}')).toBe(1)
    expect(valueOf(text, 'http_client_request_duration_seconds_count{service="inventory",method="GET",status_code="200"}')).toBe(1)
    // The names and help texts @opskit/metrics lists for dashboards and your own code.
    expect(text).toContain(`# HELP ${OPSKIT_METRICS.httpClientRequests.name} ${OPSKIT_METRICS.httpClientRequests.help}`)
    expect(text).toContain(`# HELP ${OPSKIT_METRICS.httpClientRequestDuration.name} ${OPSKIT_METRICS.httpClientRequestDuration.help}`)
  })

  it('the histogram has the buckets, sum and count in both formats; your code asking fastify.metrics for the same metric gets the one counted', async () => {
    const up = await server()
    const { app: fastify } = await app({ services: { inv: '127.0.0.1' } })
    await (await fetch(`${up.url}/a`)).text()
    await (await fetch(`${up.url}/b`)).text()
    const text = await scrape(fastify)
    const series = 'service="inv",method="GET",status_code="200"'
    const buckets = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'].map((le) => valueOf(text, `http_client_request_duration_seconds_bucket{le="${le}",${series}}`))
    expect(buckets.every((v) => v !== undefined)).toBe(true)
    expect([...buckets].sort((x, y) => (x as number) - (y as number))).toEqual(buckets)
    expect(buckets.at(-1)).toBe(2)
    expect(valueOf(text, `http_client_request_duration_seconds_count{${series}}`)).toBe(2)
    expect(valueOf(text, `http_client_request_duration_seconds_sum{${series}}`)).toBeGreaterThan(0)
    expect(text).toContain('# TYPE http_client_request_duration_seconds histogram')
    const om = (await fastify.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text' } })).body
    expect(om).toContain(`http_client_requests_total{${series}} 2`)
    expect(om).toContain(`http_client_request_duration_seconds_count{${series}} 2`)

    const own = await app({}, {}, (f) => {
      f.addHook('onReady', async () => {
        f.metrics.counter({ name: 'http_client_requests_total', help: 'mine', labelNames: ['service', 'method', 'status_code'] })
      })
    })
    await (await fetch(`${up.url}/c`)).text()
    const mine = own.app.metrics.counter({ name: 'http_client_requests_total', help: 'mine', labelNames: ['service', 'method', 'status_code'] })
    expect((await mine.get()).values.find((v) => v.labels.service === `127.0.0.1:${up.port}`)?.value).toBe(1)
  })

  it('node:http: observed too, named by host when no service matches', async () => {
    const up = await server((_req, res) => {
      res.statusCode = 503
      res.end('down')
    })
    const { app: fastify, capture } = await app()
    expect(await httpGet(`${up.url}/status`)).toBe(503)
    const line = await capture.call(up.url)
    expect(line).toMatchObject({ level: 'WARN', service: `127.0.0.1:${up.port}`, method: 'GET', url: `${up.url}/status`, status_code: 503 })
    expect(valueOf(await scrape(fastify), `http_client_requests_total{service="127.0.0.1:${up.port}",method="GET",status_code="503"}`)).toBe(1)
  })

  it('a 5xx from fetch is a WARN', async () => {
    const up = await server((_req, res) => {
      res.statusCode = 500
      res.end()
    })
    const { capture } = await app()
    await (await fetch(`${up.url}/boom`, { method: 'POST', body: 'x' })).text()
    expect(await capture.call(up.url)).toMatchObject({ level: 'WARN', method: 'POST', status_code: 500 })
  })

  it('a call inside a request carries its request_id and user_id', async () => {
    const up = await server()
    const { app: fastify, capture } = await app({}, { resolveActor: () => ({ id: 'user-7' }) }, (f) =>
      f.get('/proxy', async () => {
        await Promise.resolve()
        const res = await fetch(`${up.url}/inner`)
        return res.text()
      }),
    )
    const res = await fastify.inject('/proxy')
    expect(res.body).toBe('ok')
    const line = await capture.call(up.url)
    expect(line.request_id).toBe(res.headers['x-request-id'])
    expect(line.user_id).toBe('user-7')
  })

  it('node:http inside a request carries its request_id too', async () => {
    const up = await server()
    const { app: fastify, capture } = await app({}, {}, (f) => f.get('/via-http', async () => httpGet(`${up.url}/inner-http`)))
    const res = await fastify.inject('/via-http')
    expect(res.body).toBe('200')
    expect((await capture.call(`${up.url}/inner-http`)).request_id).toBe(res.headers['x-request-id'])
  })

  it('ignored hosts are neither logged nor counted (hostname:port matches one port only)', async () => {
    const a = await server()
    const b = await server()
    const { app: fastify, capture } = await app({ ignore: [`127.0.0.1:${a.port}`] })
    await (await fetch(`${a.url}/x`)).text()
    await (await fetch(`${b.url}/y`)).text()
    await capture.call(b.url)
    expect(capture.calls().map((l) => l.url)).toEqual([`${b.url}/y`])
    expect(await scrape(fastify)).not.toContain(`service="127.0.0.1:${a.port}"`)
  })
})

describe('propagation', () => {
  it('x-request-id and traceparent go to listed hosts only, from the request context', async () => {
    const listed = await server()
    const other = await server()
    const { app: fastify } = await app({ propagate: [`127.0.0.1:${listed.port}`] }, {}, (f) => {
      // Stands in for core's trace context (CONTRACT "Trace context"): RequestContext.traceId / spanId.
      f.addHook('onRequest', async (request) => {
        Object.assign(contextOf(request), { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' })
      })
      f.get('/both', async () => {
        await (await fetch(`${listed.url}/a`)).text()
        await (await fetch(`${other.url}/b`)).text()
        return 'done'
      })
    })
    const res = await fastify.inject('/both')
    expect(listed.received[0]?.['x-request-id']).toBe(res.headers['x-request-id'])
    expect(listed.received[0]?.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
    expect(other.received[0]?.['x-request-id']).toBeUndefined()
    expect(other.received[0]?.traceparent).toBeUndefined()
  })

  it('no traceparent from a context trace that is not a valid W3C one (upper case, all zeros, CRLF)', async () => {
    const listed = await server()
    const bad = ['4BF92F3577B34DA6A3CE929D0E0E4736', '0'.repeat(32), '4bf92f3577b34da6a3ce929d0e0e4736\r\nx: 1']
    let i = 0
    const { app: fastify } = await app({ propagate: ['127.0.0.1'] }, {}, (f) => {
      f.addHook('onRequest', async (request) => {
        Object.assign(contextOf(request), { traceId: bad[i++], spanId: '00f067aa0ba902b7' })
      })
      f.get('/t', async () => (await fetch(`${listed.url}/t`)).text())
    })
    for (let n = 0; n < bad.length; n++) await fastify.inject('/t')
    expect(listed.received).toHaveLength(bad.length)
    for (const headers of listed.received) {
      expect(headers.traceparent).toBeUndefined()
      expect(headers['x-request-id']).toBeDefined()
    }
  })

  it('nothing is propagated by default, nor outside a request, nor over a header the caller set', async () => {
    const up = await server()
    const { app: fastify } = await app({ propagate: [/^127\.0\.0\.1$/] }, {}, (f) =>
      f.get('/own', async () => (await fetch(`${up.url}/own`, { headers: { 'x-request-id': 'mine' } })).text()),
    )
    await (await fetch(`${up.url}/outside`)).text()
    await fastify.inject('/own')
    expect(up.received[0]?.['x-request-id']).toBeUndefined()
    expect(up.received[1]?.['x-request-id']).toBe('mine')

    const plain = await server()
    const { app: other } = await app({}, {}, (f) => f.get('/p', async () => (await fetch(`${plain.url}/p`)).text()))
    await other.inject('/p')
    expect(plain.received[0]?.['x-request-id']).toBeUndefined()
  })
})

describe('a line names the request that made the call', () => {
  it('over a kept-alive connection another request opened: its own request id, and none for a call outside any request', async () => {
    // undici answers on the connection's socket, whose callbacks run in the context of the request
    // that opened it; the line must name the request that made this call, not that one.
    const connections: number[] = []
    const up = await server((req, res) => {
      connections.push(req.socket.remotePort ?? 0)
      res.statusCode = req.url === '/boom' ? 503 : 200
      res.end('ok')
    })
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const { app: fastify, capture } = await app({}, {}, (f) => f.get('/call/:name', async (request) => (await fetch(`${up.url}/${(request.params as { name: string }).name}`)).text()))
    // undici puts a connection back in its pool once the body has ended, on a later turn of the loop.
    const released = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
    const first = await fastify.inject('/call/first')
    await released()
    await (await fetch(`${up.url}/outside`)).text()
    await released()
    await (await fetch(`${up.url}/boom`)).text()
    await released()
    const second = await fastify.inject({ url: '/call/second', headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } })
    // The three calls went over the one connection the first request opened.
    expect(new Set(connections).size).toBe(1)
    expect((await capture.call(`${up.url}/first`)).request_id).toBe(first.headers['x-request-id'])
    const outside = await capture.call(`${up.url}/outside`)
    expect(outside.request_id).toBeUndefined()
    expect(outside.trace_id).toBeUndefined()
    // A WARN line (an answer ≥ 500) takes the other way to the logger: the same rule.
    const boom = await capture.call(`${up.url}/boom`)
    expect(boom).toMatchObject({ level: 'WARN', status_code: 503 })
    expect(boom.request_id).toBeUndefined()
    const call = await capture.call(`${up.url}/second`)
    expect(call.request_id).toBe(second.headers['x-request-id'])
    expect(call.trace_id).toBe(traceId)
    expect(call.request_id).not.toBe(first.headers['x-request-id'])
  })
})

describe('jobs inside a traced request', () => {
  it('runJob() in a traced request: the job\'s lines and its calls carry the trace id, the propagated traceparent the job\'s own span', async () => {
    const up = await server()
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const { app: fastify, capture } = await app({ propagate: ['127.0.0.1'] }, {}, (f) =>
      f.get('/sync', async () => {
        await runJob('sync', async () => (await fetch(`${up.url}/from-job`)).text(), { id: 'job-1' })
        return 'ok'
      }),
    )
    await fastify.inject({ url: '/sync', headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } })
    const call = await capture.call(`${up.url}/from-job`)
    const completed = await capture.next((l) => l.message === 'job completed')
    const request = await capture.next((l) => l.message === 'request completed')
    expect(call).toMatchObject({ request_id: 'job-1', job: 'sync', trace_id: traceId })
    expect(completed).toMatchObject({ job: 'sync', job_id: 'job-1', trace_id: traceId, span_id: call.span_id })
    expect(request.trace_id).toBe(traceId)
    expect(call.span_id).not.toBe(request.span_id)
    expect(up.received[0]?.traceparent).toBe(`00-${traceId}-${call.span_id as string}-01`)
    expect(up.received[0]?.['x-request-id']).toBe('job-1')
  })
})

describe('failed calls', () => {
  it('refused, timed out and reset: WARN with the error code, counted status_code="error", no unhandled rejection', async () => {
    const hang = await server(() => {})
    const reset = net.createServer((socket) => socket.on('data', () => socket.resetAndDestroy()))
    await new Promise<void>((resolve) => reset.listen(0, '127.0.0.1', resolve))
    cleanup.push(() => new Promise((resolve) => reset.close(resolve)))
    const resetUrl = `http://127.0.0.1:${(reset.address() as net.AddressInfo).port}`
    const refusedUrl = `http://127.0.0.1:${await closedPort()}`
    const { app: fastify, capture } = await app({ services: { hang: `127.0.0.1:${hang.port}` } })

    await expect(fetch(`${refusedUrl}/r`)).rejects.toThrow()
    await expect(fetch(`${hang.url}/t`, { signal: AbortSignal.timeout(100) })).rejects.toThrow()
    await expect(fetch(`${resetUrl}/x`)).rejects.toThrow()
    await expect(httpGet(`${refusedUrl}/h`)).rejects.toThrow()

    expect(await capture.call(`${refusedUrl}/r`)).toMatchObject({ level: 'WARN', error: 'ECONNREFUSED', status_code: null })
    expect(await capture.call(`${hang.url}/t`)).toMatchObject({ level: 'WARN', error: 'timeout', service: 'hang' })
    expect(await capture.call(`${resetUrl}/x`)).toMatchObject({ level: 'WARN', error: 'ECONNRESET' })
    expect(await capture.call(`${refusedUrl}/h`)).toMatchObject({ level: 'WARN', error: 'ECONNREFUSED' })
    const text = await scrape(fastify)
    expect(valueOf(text, 'http_client_requests_total{service="hang",method="GET",status_code="error"}')).toBe(1)
    expect(valueOf(text, `http_client_requests_total{service="127.0.0.1:${new URL(refusedUrl).port}",method="GET",status_code="error"}`)).toBe(2)
    await new Promise((resolve) => setImmediate(resolve))
    expect(unhandled).toEqual([])
  })
})

describe('the source of a WARN line', () => {
  it('by default null: no frame of the caller is on the stack where the line is written, and the observer is no use to you', async () => {
    const refusedUrl = `http://127.0.0.1:${await closedPort()}`
    const { capture } = await app()
    await fetch(`${refusedUrl}/x`).catch(() => undefined)
    const line = await capture.call(`${refusedUrl}/x`)
    expect(line).toMatchObject({ level: 'WARN', error: 'ECONNREFUSED', source: null })
    expect(capture.raw()).not.toContain('call-observer')
  })

  it('callSite: names the code that made the call (file, line, function), never the observer; INFO lines have none', async () => {
    const up = await server((req, res) => {
      res.statusCode = req.url === '/fine' ? 200 : 502
      res.end()
    })
    const refusedUrl = `http://127.0.0.1:${await closedPort()}`
    const { capture } = await app({ callSite: true })
    async function loadInventory(): Promise<void> {
      await fetch(`${refusedUrl}/inventory`).catch(() => undefined)
    }
    async function chargeCard(): Promise<void> {
      await (await fetch(`${up.url}/charge`)).text()
    }
    async function listOrders(): Promise<void> {
      await httpGet(`${refusedUrl}/orders`).catch(() => undefined)
    }
    await loadInventory()
    await chargeCard()
    await listOrders()
    await (await fetch(`${up.url}/fine`)).text()

    const here = 'packages/outbound/test/outbound.test.ts'
    const refused = await capture.call(`${refusedUrl}/inventory`)
    expect(refused).toMatchObject({ level: 'WARN', error: 'ECONNREFUSED', source: { file: here, function: 'loadInventory' } })
    expect(typeof (refused.source as { line: unknown }).line).toBe('number')
    expect(await capture.call(`${up.url}/charge`)).toMatchObject({ level: 'WARN', status_code: 502, source: { file: here, function: 'chargeCard' } })
    // node:http publishes its start synchronously where Node has http.client.request.created (22.12+);
    // Node 20's start channel speaks from the socket's callback, with no caller on the stack.
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
    const http = await capture.call(`${refusedUrl}/orders`)
    if (major > 22 || (major === 22 && minor >= 12)) expect(http.source).toMatchObject({ file: here, line: expect.any(Number) as number })
    else expect(http.source).toBeNull()
    expect((await capture.call(`${up.url}/fine`)).source).toBeUndefined()
    expect(capture.raw()).not.toContain('call-observer')
  })
})

describe('odd messages', () => {
  it('a message the observer cannot read never becomes an uncaught exception, and the next call is observed', async () => {
    const up = await server()
    const { capture } = await app()
    const uncaught: unknown[] = []
    const onUncaught = (err: unknown): void => void uncaught.push(err)
    process.on('uncaughtException', onUncaught)
    try {
      const hostile = { toString: () => { throw new Error('hostile origin') } }
      diagnosticsChannel.channel('undici:request:create').publish({ request: { origin: hostile, path: '/', method: 'GET', headers: [] } })
      diagnosticsChannel.channel('undici:request:headers').publish({ request: {}, response: null })
      diagnosticsChannel.channel('http.client.request.start').publish({ request: { getHeader: () => { throw new Error('hostile request') } } })
      await new Promise((resolve) => setImmediate(resolve))
      expect(uncaught).toEqual([])
    } finally {
      process.off('uncaughtException', onUncaught)
    }
    await (await fetch(`${up.url}/after`)).text()
    expect((await capture.call(`${up.url}/after`)).status_code).toBe(200)
  })
})

describe('where a call in flight is kept', () => {
  it('a request object that takes no property (frozen) is still observed, once, and left as it was', async () => {
    const { capture } = await app({ services: { frozen: 'frozen.example' } })
    const frozenRequest = Object.freeze({ origin: 'http://frozen.example:8080', path: '/items/7?token=abc', method: 'GET', headers: Object.freeze([]) })
    const plain = { origin: 'http://frozen.example:8080', path: '/items/8', method: 'GET', headers: [] as string[] }
    for (const request of [frozenRequest, plain]) {
      diagnosticsChannel.channel('undici:request:create').publish({ request })
      diagnosticsChannel.channel('undici:request:headers').publish({ request, response: { statusCode: 201, headers: [], statusText: 'Created' } })
      diagnosticsChannel.channel('undici:request:trailers').publish({ request, trailers: [] })
      // A second end of the same request (a replayed message) writes nothing more.
      diagnosticsChannel.channel('undici:request:trailers').publish({ request, trailers: [] })
    }
    const frozen = await capture.call('http://frozen.example:8080/items/7')
    expect(frozen).toMatchObject({ service: 'frozen', method: 'GET', status_code: 201, url: 'http://frozen.example:8080/items/7?token=[REDACTED]' })
    expect((await capture.call('http://frozen.example:8080/items/8')).status_code).toBe(201)
    expect(capture.calls().filter((line) => String(line.url).startsWith('http://frozen.example:8080/'))).toHaveLength(2)
    expect(Object.getOwnPropertySymbols(frozenRequest)).toEqual([])
    // The plain object kept the call under a symbol of the observer's, cleared when the call ended.
    expect(Object.keys(plain)).toEqual(['origin', 'path', 'method', 'headers'])
    expect(Object.getOwnPropertySymbols(plain).map((key) => (plain as unknown as Record<symbol, unknown>)[key])).toEqual([undefined])
  })
})

describe('nothing secret or hostile reaches a line', () => {
  it('secret query values are [REDACTED], userinfo is stripped, headers are not logged', async () => {
    const up = await server()
    const { capture } = await app()
    await (await fetch(`${up.url}/cb?page=1&access_token=abc123&api_key=k-999&q=${encodeURIComponent('Bearer zzz-secret')}`, { headers: { authorization: 'Bearer hdr-secret' } })).text()
    const line = await capture.call(`${up.url}/cb`)
    expect(line.url).toBe(`${up.url}/cb?page=1&access_token=[REDACTED]&api_key=[REDACTED]&q=[REDACTED]`)
    const withUser = `http://alice:pw-1234@127.0.0.1:${up.port}/private`
    await httpGet(withUser)
    expect((await capture.call(`${up.url}/private`)).url).toBe(`${up.url}/private`)
    for (const secret of ['abc123', 'k-999', 'zzz-secret', 'hdr-secret', 'alice', 'pw-1234']) expect(capture.raw()).not.toContain(secret)
  })

  it('a path called again, on another origin, or past the kept paths: each line has its own origin, its secrets masked', async () => {
    const one = await server()
    const two = await server()
    const { capture } = await app({ services: { one: `127.0.0.1:${one.port}`, two: `127.0.0.1:${two.port}` } })
    const path = '/orders?token=tok-777&page=3'
    for (const up of [one, two, one]) await (await fetch(`${up.url}${path}`)).text()
    // Past the 256 paths an origin keeps, and a path too long to keep: worked out again, the same way.
    for (let i = 0; i < 300; i++) await (await fetch(`${one.url}/n/${i}?password=pw-${i}`)).text()
    await (await fetch(`${one.url}${path}`)).text()
    await (await fetch(`${one.url}/${'p'.repeat(300)}?secret=s-long`)).text()
    await capture.call(`${one.url}/${'p'.repeat(300)}`)
    const calls = capture.calls()
    expect(calls).toHaveLength(305)
    const masked = '/orders?token=[REDACTED]&page=3'
    expect(calls.filter((l) => l.url === `${one.url}${masked}`).map((l) => l.service)).toEqual(['one', 'one', 'one'])
    expect(calls.filter((l) => l.url === `${two.url}${masked}`).map((l) => l.service)).toEqual(['two'])
    expect(calls.filter((l) => typeof l.url === 'string' && l.url.startsWith(`${one.url}/n/`)).map((l) => l.url)).toEqual(
      Array.from({ length: 300 }, (_, i) => `${one.url}/n/${i}?password=[REDACTED]`),
    )
    expect(calls.find((l) => l.url === `${one.url}/${'p'.repeat(300)}?secret=[REDACTED]`)?.service).toBe('one')
    for (const secret of ['tok-777', 'pw-1', 's-long']) expect(capture.raw()).not.toContain(secret)
  })

  it('CRLF and oversized URLs are encoded and capped', async () => {
    const up = await server()
    const { capture } = await app()
    const long = 'a'.repeat(10_000)
    await (await fetch(`${up.url}/long/${long}?x=${encodeURIComponent('\r\nINJECTED: 1')}`)).text()
    const line = await capture.call(`${up.url}/long`)
    expect((line.url as string).length).toBeLessThanOrEqual(2048)
    expect(capture.raw().split('\n').filter((l) => l !== '').every((l) => !l.includes('\r'))).toBe(true)
  })
})

describe('lifecycle and instances', () => {
  it('two instances: a call made while one serves a request is counted and logged by that one only', async () => {
    const up = await server()
    const a = await app({}, {}, (f) => f.get('/call', async () => (await fetch(`${up.url}/from-a`)).text()))
    const b = await app()
    await a.app.inject('/call')
    await a.capture.call(`${up.url}/from-a`)
    expect(valueOf(await scrape(a.app), `http_client_requests_total{service="127.0.0.1:${up.port}",method="GET",status_code="200"}`)).toBe(1)
    expect(await scrape(b.app)).not.toContain('http_client_requests_total{')
    expect(b.capture.calls()).toEqual([])
  })

  it('two instances: a job started in one\'s request, or given { app }, is that instance\'s alone', async () => {
    const up = await server()
    const a = await app({}, {}, (f) => f.get('/job', async () => runJob('sync', async () => (await fetch(`${up.url}/job-of-a`)).text())))
    const b = await app()
    await a.app.inject('/job')
    await runJob('report', async () => (await fetch(`${up.url}/job-of-b`)).text(), { app: b.app })
    await a.capture.call(`${up.url}/job-of-a`)
    await b.capture.call(`${up.url}/job-of-b`)
    expect(a.capture.calls().map((l) => l.url)).toEqual([`${up.url}/job-of-a`])
    expect(b.capture.calls().map((l) => l.url)).toEqual([`${up.url}/job-of-b`])
  })

  it('a request that makes no call pays nothing: the plugin adds no request hook', async () => {
    const hooks = async (withOutbound: boolean): Promise<string> => {
      const fastify = Fastify()
      cleanup.push(() => fastify.close())
      await fastify.register(opskitCore)
      await fastify.register(opskitLogging)
      await fastify.register(opskitMetrics)
      if (withOutbound) await fastify.register(opskitOutbound)
      fastify.get('/plain', async () => 'ok')
      await fastify.ready()
      return fastify.printRoutes({ includeHooks: true, commonPrefix: false })
    }
    const without = await hooks(false)
    expect(without).toContain('onRequest')
    expect(await hooks(true)).toBe(without)
  })

  it('after close() no call is observed', async () => {
    const up = await server()
    const { app: fastify, capture } = await buildApp()
    await fastify.ready()
    await (await fetch(`${up.url}/before`)).text()
    await capture.call(`${up.url}/before`)
    await fastify.close()
    await (await fetch(`${up.url}/after`)).text()
    await httpGet(`${up.url}/after-http`)
    expect(capture.calls().map((l) => l.url)).toEqual([`${up.url}/before`])
  })
})
