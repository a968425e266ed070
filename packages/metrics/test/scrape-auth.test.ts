import { Writable } from 'node:stream'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp, valueOf } from './helpers.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  vi.useRealTimers()
  await app?.close()
  app = undefined
})

function captureLines(): { stream: Writable; lines: () => Array<Record<string, any>> } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk))
      callback()
    },
  })
  return { stream, lines: () => chunks.join('').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, any>) }
}

const TOKEN = 's3cret-token'
const scrape = (instance: FastifyInstance, authorization?: string) =>
  instance.inject({ url: '/metrics', headers: authorization === undefined ? {} : { authorization } })

describe('a refused scrape (a misconfigured scraper)', () => {
  it('counts in metrics_auth_failures_total and WARNs at most once a minute, with how many were refused', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'))
    const logs = captureLines()
    app = await buildApp({ auth: { bearerToken: TOKEN } }, { logger: { level: 'info', stream: logs.stream } })
    const warns = () => logs.lines().filter((line) => line.level === 40)

    const refused = await scrape(app)
    expect(refused.statusCode).toBe(401)
    expect(refused.json()).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'A valid bearer token is required to read metrics', request_id: 'req-1' })
    for (let i = 0; i < 4; i++) expect((await scrape(app, 'Bearer stale')).statusCode).toBe(401)
    expect(warns()).toHaveLength(1)
    expect(warns()[0]).toMatchObject({ refused_scrapes: 1, reason: 'missing', msg: expect.stringContaining('bearer token') })

    vi.setSystemTime(new Date('2026-01-01T00:01:00Z'))
    expect((await scrape(app, 'Bearer stale')).statusCode).toBe(401)
    expect(warns()).toHaveLength(2)
    expect(warns()[1]).toMatchObject({ refused_scrapes: 5, reason: 'invalid' })

    const ok = await scrape(app, `Bearer ${TOKEN}`)
    expect(ok.statusCode).toBe(200)
    expect(valueOf(ok.body, 'metrics_auth_failures_total')).toBe(6)
    expect(ok.body).toContain('# HELP metrics_auth_failures_total ')
    expect(warns()).toHaveLength(2)
  })

  it('has no such counter without auth, and the counter takes the prefix', async () => {
    app = await buildApp()
    expect((await scrape(app)).body).not.toContain('metrics_auth_failures_total')
    await app.close()
    app = await buildApp({ prefix: 'bookings_', auth: { bearerToken: TOKEN } })
    await scrape(app)
    expect(valueOf((await scrape(app, `Bearer ${TOKEN}`)).body, 'bookings_metrics_auth_failures_total')).toBe(1)
  })

  it('marks the scrape route securityLog: false, so security-log records no token_invalid for it', async () => {
    app = await buildApp({ auth: { bearerToken: TOKEN } })
    let config: Record<string, unknown> | undefined
    app.addHook('onResponse', async (request) => {
      config = request.routeOptions.config as unknown as Record<string, unknown>
    })
    expect((await scrape(app)).statusCode).toBe(401)
    expect(config).toMatchObject({ securityLog: false, rateLimit: false, metrics: false })
  })
})
