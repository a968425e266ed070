import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { opskitMetrics } from '@opskit/metrics'
import { opskitRateLimit } from '@opskit/rate-limit'
import { STORE, buildApp, dropTables, uniqueName } from './helpers.js'

const tables: string[] = []

describe(`with @opskit/rate-limit and @opskit/metrics (${STORE})`, () => {
  let app: FastifyInstance | undefined
  afterEach(async () => {
    await app?.close()
    app = undefined
  })
  afterAll(() => dropTables(tables))

  it('a 429 from rate-limit is exactly one rate_limit_hit, with the limiter details, counted in security_events_total', async () => {
    const table = uniqueName('security_logs_int')
    tables.push(table)
    app = await buildApp({ table }, {
      setup: async (instance) => {
        await instance.register(opskitMetrics, { defaultMetrics: false })
        await instance.register(opskitRateLimit, { max: 2, timeWindow: 60_000 })
      },
    })
    app.get('/search', async () => ({ results: [] }))
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await app.inject({ url: '/search', headers: { 'x-forwarded-for': '203.0.113.200' } })).statusCode)
    expect(statuses).toEqual([200, 200, 429, 429, 429])
    await app.securityLog.flush()
    const { items, total } = await app.securityLog.query({ action: 'rate_limit_hit' })
    expect(total).toBe(3)
    expect(new Set(items.map((i) => i.request_id)).size).toBe(3)
    expect(items[0]).toMatchObject({ severity: 'warning', ip_address: '203.0.113.200', request_path: '/search', details: { limit: 2 } })
    const metrics = (await app.inject({ url: '/metrics' })).body
    expect(metrics).toContain('security_events_total{action="rate_limit_hit",severity="warning"} 3')
  })
  it('an accepted event that cannot be stored is counted (security_events_not_stored_total), and so are failed writes', async () => {
    app = await buildApp({
      table: uniqueName('security_logs_lost'),
      connection: 'postgres://postgres@127.0.0.1:1/none',
      migrate: false,
      queue: { maxQueueSize: 1, retryBaseMs: 10, retryMaxMs: 20, closeTimeoutMs: 0 },
    }, {
      setup: async (instance) => {
        await instance.register(opskitMetrics, { defaultMetrics: false })
      },
    })
    await app.ready()
    const first = app.securityLog.record({ action: 'account_locked' })
    first.catch(() => undefined)
    await expect(app.securityLog.record({ action: 'login_failure' })).rejects.toThrow(/queue full/)
    await new Promise((r) => setTimeout(r, 50))
    const metrics = (await app.inject({ url: '/metrics' })).body
    expect(metrics).toContain('security_events_not_stored_total 1')
    expect(metrics).toMatch(/security_write_failures_total [1-9]/)
  })
})
