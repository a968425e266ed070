import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { opskitMetrics } from '@opskit/metrics'
import { opskitRateLimit } from '@opskit/rate-limit'
import { STORE, buildApp, captureLogs, dropTables, uniqueName } from './helpers.js'

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
  it('security_events_total keeps at most 200 action labels: later new actions are counted as action="other"', async () => {
    const table = uniqueName('security_logs_labels')
    tables.push(table)
    app = await buildApp({ table }, { setup: async (instance) => { await instance.register(opskitMetrics, { defaultMetrics: false }) } })
    await app.ready()
    const records: Promise<unknown>[] = []
    for (let i = 0; i < 203; i++) records.push(app.securityLog.record({ action: `custom_${i}`, severity: 'info' }))
    records.push(app.securityLog.record({ action: 'custom_0', severity: 'info' }))
    await Promise.all(records)
    const metrics = (await app.inject({ url: '/metrics' })).body
    expect(metrics).toContain('security_events_total{action="custom_0",severity="info"} 2')
    expect(metrics).toContain('security_events_total{action="custom_199",severity="info"} 1')
    expect(metrics).not.toContain('action="custom_200"')
    expect(metrics).toContain('security_events_total{action="other",severity="info"} 3')
  })

  it('a store outage that ends loses nothing: failed INSERTs are retried, logged once, counted, and every event lands', async () => {
    const table = uniqueName('security_logs_outage')
    tables.push(table)
    const logs = captureLogs()
    // migrate: false on a fresh name: the table is missing, so every INSERT fails until migrate() runs.
    app = await buildApp({ table, migrate: false, queue: { retryBaseMs: 10, retryMaxMs: 40 } }, {
      logs,
      setup: async (instance) => {
        await instance.register(opskitMetrics, { defaultMetrics: false })
      },
    })
    await app.ready()
    const pending = Array.from({ length: 20 }, (_, i) => app!.securityLog.record({ action: 'login_failure', details: { i } }))
    const failed = (l: Record<string, any>) => l.msg === '@opskit/security-log: writing security events failed; retrying (nothing is dropped)'
    const writeFailures = async (): Promise<number> => Number(/^security_write_failures_total (\d+)$/m.exec((await app!.inject({ url: '/metrics' })).body)?.[1])
    await logs.line(failed)
    await vi.waitFor(async () => expect(await writeFailures()).toBeGreaterThanOrEqual(3)) // several more failed attempts
    await app.securityLog.migrate() // the store is back
    const records = await Promise.all(pending)
    expect(new Set(records.map((r) => r.id)).size).toBe(20)
    expect((await app.securityLog.query({ action: 'login_failure' })).total).toBe(20)
    const lines = logs.lines()
    expect(lines.filter(failed).map((l) => l.level)).toEqual([50]) // one ERROR for the outage, not one per attempt
    expect(lines.filter((l) => l.msg === '@opskit/security-log: security events are being written again').map((l) => l.level)).toEqual([40])
    const metrics = (await app.inject({ url: '/metrics' })).body
    expect(await writeFailures()).toBeGreaterThanOrEqual(3)
    expect(metrics).toMatch(/^security_events_not_stored_total 0$/m)
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
    await vi.waitFor(async () => {
      const metrics = (await app!.inject({ url: '/metrics' })).body
      expect(metrics).toContain('security_events_not_stored_total 1')
      expect(metrics).toMatch(/security_write_failures_total [1-9]/)
    })
  })
})
