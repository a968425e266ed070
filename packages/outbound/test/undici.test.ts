import { afterEach, describe, expect, it } from 'vitest'
import { fetch as undiciFetch, request as undiciRequest } from 'undici'
import { buildApp, scrape, upstream, valueOf, type Upstream } from './helpers.js'
import type { FastifyInstance } from 'fastify'

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.()
})

async function setup(options: Parameters<typeof buildApp>[0], routes?: (app: FastifyInstance, up: Upstream) => void): Promise<{ up: Upstream; app: FastifyInstance; capture: Awaited<ReturnType<typeof buildApp>>['capture'] }> {
  const up = await upstream((req, res) => {
    req.resume()
    req.on('end', () => res.end('{"session":"s1","token":"resp-secret-1","hello":"world"}'))
  })
  cleanup.push(() => up.close())
  const { app, capture } = await buildApp(options)
  cleanup.push(() => app.close())
  routes?.(app, up)
  await app.ready()
  return { up, app, capture }
}

describe('the npm undici package', () => {
  it('undici.request is observed, counted and propagated like global fetch', async () => {
    const { up, app, capture } = await setup({ services: { api: '127.0.0.1' }, propagate: ['127.0.0.1'] }, (f, u) =>
      f.get('/x', async () => {
        const res = await undiciRequest(`${u.url}/u?password=hunter2`)
        return res.body.text()
      }),
    )
    const res = await app.inject('/x')
    const line = await capture.call(`${up.url}/u`)
    expect(line).toMatchObject({ service: 'api', method: 'GET', url: `${up.url}/u?password=[REDACTED]`, status_code: 200, request_id: res.headers['x-request-id'] })
    expect(up.received[0]?.['x-request-id']).toBe(res.headers['x-request-id'])
    expect(valueOf(await scrape(app), 'http_client_requests_total{service="api",method="GET",status_code="200"}')).toBe(1)
    expect(line.request_body_preview).toBeUndefined()
  })

  it('no bodyPreview by default', async () => {
    const { up, capture } = await setup({})
    await (await undiciFetch(`${up.url}/n`, { method: 'POST', body: 'hello' })).text()
    const line = await capture.call(`${up.url}/n`)
    expect(line.request_body_preview).toBeUndefined()
    expect(line.response_body_preview).toBeUndefined()
  })

  it('bodyPreview: the first maxBytes of each body, secrets masked', async () => {
    const { up, capture } = await setup({ bodyPreview: { maxBytes: 32 } })
    const body = JSON.stringify({ password: 'req-secret-1', note: 'x'.repeat(100) })
    await (await undiciFetch(`${up.url}/p`, { method: 'POST', body })).text()
    const line = await capture.call(`${up.url}/p`)
    expect(Buffer.byteLength(line.request_body_preview as string)).toBeLessThanOrEqual(32)
    expect(line.request_body_preview).toContain('"password":')
    // The response's token value straddles the 32-byte limit: masked whole before the cut.
    expect(line.response_body_preview).toBe('{"session":"s1","token":"[REDACT')
    expect(capture.raw()).not.toContain('req-secret-1')
    expect(capture.raw()).not.toContain('resp-secret-1')
  })
})
