import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { Registry, Counter } from 'prom-client'
import { securityLogMigration } from '@opskit/security-log'
import { DATABASE_URL, STORE, buildApp, captureLogs, dropTables, uniqueName } from './helpers.js'

if (DATABASE_URL === undefined) console.warn('[security-log] DATABASE_URL is not set: storage tests run on PGlite; the two-instances-migrate-at-once test on PostgreSQL is SKIPPED')

const tables: string[] = []
function table(): string {
  const name = uniqueName('security_logs_store')
  tables.push(name)
  return name
}

describe(`storage (${STORE})`, () => {
  let app: FastifyInstance | undefined
  const dirs: string[] = []
  afterEach(async () => {
    await app?.close()
    app = undefined
  })
  afterAll(async () => {
    await dropTables(tables)
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  it('a burst of 10,000 events from 100 concurrent callers lands in full', async () => {
    app = await buildApp({ table: table(), autoCapture: false })
    const ids = new Set<string>()
    await Promise.all(Array.from({ length: 100 }, async (_, caller) => {
      for (let i = 0; i < 100; i++) {
        const record = await app!.securityLog.record({ action: 'login_failure', userId: `caller-${caller}`, details: { i } }, { ip: `10.0.${caller}.1` })
        ids.add(record.id)
      }
    }))
    expect(ids.size).toBe(10_000)
    expect((await app.securityLog.query({ limit: 1 })).total).toBe(10_000)
    expect((await app.securityLog.query({ user_id: 'caller-42', limit: 1 })).total).toBe(100)
  })

  it('stores texts that look like array syntax exactly as given, in one batch (NULL, empty, braces, commas, quotes, backslashes)', async () => {
    app = await buildApp({ table: table(), autoCapture: false })
    const texts = ['NULL', '', '{a,b}', 'x,y', 'say "hi"', 'C:\\dir\\', '\\"', ' spaced ', 'é 😀']
    const records = await Promise.all(texts.map((text, i) => app!.securityLog.record(
      { action: 'login_failure', userId: text, details: { i, text, [`k"\\${i}`]: [text] } },
      { userAgent: text, requestPath: `/p/${text}`, ip: '::1' },
    )))
    const { items } = await app.securityLog.query({ limit: 100 })
    const byId = new Map(items.map((item) => [item.id, item]))
    texts.forEach((text, i) => {
      expect(byId.get(records[i]!.id)).toMatchObject({ user_id: text, user_agent: text, request_path: `/p/${text}`, ip_address: '::1', details: records[i]!.details })
      expect(byId.get(records[i]!.id)!.details).toEqual({ i, text, [`k"\\${i}`]: [text] })
    })
  })

  it('fastify.close() writes every event accepted before it, even ones nobody awaited', async () => {
    const name = table()
    let connection: string | { embedded: { dataDir: string } } | undefined = DATABASE_URL
    if (connection === undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'opskit-security-log-'))
      dirs.push(dir)
      connection = { embedded: { dataDir: dir } }
    }
    app = await buildApp({ table: name, connection })
    for (let i = 0; i < 500; i++) void app.securityLog.record({ action: 'token_invalid', details: { i } })
    await app.close()
    app = await buildApp({ table: name, connection })
    expect((await app.securityLog.query({ limit: 1 })).total).toBe(500)
  })

  it('counts security_events_total{action,severity} through fastify.metrics when it is registered', async () => {
    const registry = new Registry()
    app = await buildApp({ table: table() }, {
      // Stands in for @opskit/metrics: get-or-create helpers over the instance's own registry.
      setup: (instance) => {
        const metrics = {
          registry,
          counter: (cfg: { name: string; help: string; labelNames: string[] }) =>
            (registry.getSingleMetric(cfg.name) as Counter<string> | undefined) ?? new Counter({ ...cfg, registers: [registry] }),
        }
        instance.decorate('metrics', metrics as never)
      },
    })
    app.get('/private', async (_request, reply) => reply.code(401).send())
    await app.ready()
    await app.securityLog.record({ action: 'login_failure' })
    await app.securityLog.record({ action: 'login_failure' })
    await app.securityLog.record({ action: 'account_locked' })
    await app.inject({ url: '/private' })
    const text = await registry.metrics()
    expect(text).toContain('security_events_total{action="login_failure",severity="warning"} 2')
    expect(text).toContain('security_events_total{action="account_locked",severity="critical"} 1')
    expect(text).toContain('security_events_total{action="token_invalid",severity="warning"} 1')
  })

  it('runs without metrics registered (no counter, no error)', async () => {
    app = await buildApp({ table: table() })
    await app.ready()
    expect(app.hasDecorator('metrics')).toBe(false)
    await expect(app.securityLog.record({ action: 'login_failure' })).resolves.toMatchObject({ action: 'login_failure' })
  })

  it('a store outage is never silent: writes are retried, and close() reports what it could not write', async () => {
    const logs = captureLogs()
    app = await buildApp({
      table: table(),
      connection: 'postgres://postgres@127.0.0.1:1/none',
      migrate: false,
      queue: { retryBaseMs: 10, retryMaxMs: 50, closeTimeoutMs: 300 },
    }, { logs })
    const pending = app.securityLog.record({ action: 'account_locked' })
    await logs.line((l) => l.msg === '@opskit/security-log: writing security events failed; retrying (nothing is dropped)')
    await app.close()
    app = undefined
    await expect(pending).rejects.toThrow(/unwritten/)
    const lines = logs.lines()
    const writeFailures = lines.filter((l) => l.msg === '@opskit/security-log: writing security events failed; retrying (nothing is dropped)')
    expect(writeFailures.length).toBe(1) // the first failure of the outage, then throttled
    expect(lines.some((l) => l.level === 50 && typeof l.msg === 'string' && l.msg.includes('NOT written'))).toBe(true)
    expect(lines.some((l) => l.level === 50 && l.msg === '@opskit/security-log: security event account_locked NOT stored')).toBe(true)
  })

  it.skipIf(DATABASE_URL === undefined)('creates the table with the contract columns and indexes, idempotently, even from two instances at once', async () => {
    const name = table()
    const [a, b] = await Promise.all([buildApp({ table: name }), buildApp({ table: name })])
    await Promise.all([a.close(), b.close()])
    const pool = new pg.Pool({ connectionString: DATABASE_URL })
    try {
      for (const statement of securityLogMigration(name)) await pool.query(statement)
      const columns = await pool.query(
        'SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
        [name],
      )
      expect(columns.rows.map((c) => `${c.column_name}:${c.data_type}`)).toEqual([
        'id:uuid', 'action:text', 'severity:text', 'user_id:text', 'user_email:text', 'ip_address:inet',
        'user_agent:text', 'request_path:text', 'request_id:text', 'details:jsonb', 'created_at:timestamp with time zone',
        'trace_id:text',
      ])
      const indexes = await pool.query('SELECT indexdef FROM pg_indexes WHERE tablename = $1', [name])
      const defs = indexes.rows.map((r) => String(r.indexdef)).join('\n')
      expect(defs).toContain('(action, created_at DESC)')
      expect(defs).toContain('(ip_address)')
      expect(defs).toContain('(user_id)')
      expect(defs).toContain('(created_at DESC)')
    } finally {
      await pool.end()
    }
  })
})
