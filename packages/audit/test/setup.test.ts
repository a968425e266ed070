import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { opskitCore } from '@opskit/core'
import { AUDIT_MIGRATION_SQL, auditTableSql, FST_AUDIT_INVALID_OPTION, FST_OPSKIT_AUDIT_INVALID_OPTION, opskitAudit } from '@opskit/audit'
import { buildApp, captureLogs, DATABASE_URL, target, useTestDb } from './helpers.js'

describe('options', () => {
  const bad: Array<[string, Record<string, unknown>]> = [
    ['connection', { connection: 42 }],
    ['table', { table: 'audit logs; drop' }],
    ['migrate', { migrate: 'yes' }],
    ['autoAudit', { autoAudit: 'on' }],
    ['autoAudit.methods', { autoAudit: { methods: ['FETCH'] } }],
    ['autoAudit.ignore', { autoAudit: { ignore: [1] } }],
    ['redact', { redact: 'password' }],
    ['routes.prefix', { routes: { prefix: 'audit', authorize: () => true } }],
    ['routes.authorize', { routes: { authorize: true } }],
    ['retentionDays', { retentionDays: 0 }],
    ['queue.maxBatchSize', { queue: { maxBatchSize: 20000 } }],
    ['queue.maxQueueSize', { queue: { maxQueueSize: -1 } }],
    // one unknown-key policy, as every opskit package: a misspelt key fails, named
    ['chian', { chian: true }],
    ['autoAudit.method', { autoAudit: { method: ['POST'] } }],
    ['routes.authorise', { routes: { authorise: () => true } }],
    ['queue.maxBatch', { queue: { maxBatch: 10 } }],
    ['spool.directory', { spool: { dir: '/tmp/x', directory: '/tmp/y' } }],
  ]
  for (const [name, opts] of bad) {
    it(`register() throws FST_OPSKIT_AUDIT_INVALID_OPTION naming "${name}"`, async () => {
      const app = Fastify()
      await app.register(opskitCore)
      app.register(opskitAudit, opts as any)
      const err = await app.ready().then(() => null, (e: unknown) => e as Error & { code?: string })
      expect(err?.code).toBe('FST_OPSKIT_AUDIT_INVALID_OPTION')
      expect(err).toBeInstanceOf(FST_OPSKIT_AUDIT_INVALID_OPTION)
      expect(err?.message).toContain(`"${name}"`)
      await app.close()
    })
  }

  it('FST_AUDIT_INVALID_OPTION (deprecated) is the same class, so code that imports it keeps working', () => {
    expect(FST_AUDIT_INVALID_OPTION).toBe(FST_OPSKIT_AUDIT_INVALID_OPTION)
    expect(new FST_AUDIT_INVALID_OPTION('table', 'x')).toBeInstanceOf(TypeError)
  })

  it('needs @opskit/core registered first', async () => {
    const app = Fastify()
    app.register(opskitAudit, { connection: { embedded: {} } })
    await expect(app.ready()).rejects.toThrow(/@opskit\/core/)
    await app.close()
  })
})

describe('embedded default', () => {
  it('with no connection, warns that events live in memory, and works', async () => {
    const { lines, stream } = captureLogs()
    const app = await buildApp({}, { logs: stream })
    try {
      expect(lines.filter((l) => l.level === 40 && l.msg === '@opskit/audit: no connection given, using embedded PGlite in memory; events are lost on restart')).toHaveLength(1)
      const record = await app.audit.record({ action: 'login', entityType: 'user', entityId: 'u-1' })
      const page = await app.audit.query({})
      expect(page.items.map((r) => r.id)).toEqual([record.id])
    } finally {
      await app.close()
    }
  })
})

describe(`migrations against ${target}`, () => {
  const { db, newTable } = useTestDb()

  it('two instances starting at once on the same table both come up', async () => {
    const table = newTable()
    const second = DATABASE_URL === undefined ? db.connection : DATABASE_URL
    const apps = await Promise.all([
      buildApp({ connection: db.connection, table }),
      buildApp({ connection: second, table }),
      buildApp({ connection: db.connection, table }),
    ])
    await Promise.all(apps.map((a, i) => a.audit.record({ action: 'create', entityType: 'x', entityId: i })))
    await Promise.all(apps.map((a) => a.close()))
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM ${table}`)
    expect(n).toBe(3)
    const indexes = await db.query(`SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname`, [table])
    expect(indexes.map((r) => r.indexname)).toEqual([
      `${table}_created_at_idx`, `${table}_entity_idx`, `${table}_pkey`, `${table}_user_id_action_idx`,
    ])
  })

  it('migrate: false creates nothing; fastify.audit.migrate() and the exported SQL create it idempotently', async () => {
    const table = newTable()
    const app = await buildApp({ connection: db.connection, table, migrate: false })
    try {
      const [{ t }] = await db.query(`SELECT to_regclass($1)::text AS t`, [table])
      expect(t).toBeNull()
      await app.audit.migrate()
      await app.audit.migrate()
      for (const statement of auditTableSql(table)) await db.query(statement)
      const columns = await db.query(`SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [table])
      expect(columns.map((c) => `${c.column_name}:${c.data_type}`)).toEqual([
        'id:uuid', 'user_id:text', 'user_email:text', 'action:text', 'entity_type:text', 'entity_id:text', 'entity_name:text',
        'old_values:jsonb', 'new_values:jsonb', 'changes_summary:text', 'ip_address:inet', 'user_agent:text',
        'request_path:text', 'request_id:text', 'created_at:timestamp with time zone', 'trace_id:text',
      ])
      expect(AUDIT_MIGRATION_SQL).toContain('CREATE TABLE IF NOT EXISTS "audit_logs"')
    } finally {
      await app.close()
    }
  })
})

describe(`retentionDays against ${target}`, () => {
  const { db, newTable } = useTestDb()
  let app: FastifyInstance | undefined
  const table = newTable()
  afterEach(async () => {
    vi.restoreAllMocks()
    await app?.close()
    app = undefined
  })

  it('purges rows older than retentionDays at start on an unref()\'d hourly timer that close() clears', async () => {
    for (const statement of auditTableSql(table)) await db.query(statement)
    await db.query(`INSERT INTO ${table} (id, action, entity_type, created_at) VALUES
      (gen_random_uuid(), 'old', 'x', now() - interval '40 days'),
      (gen_random_uuid(), 'recent', 'x', now() - interval '2 days')`)
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval')
    app = await buildApp({ connection: db.connection, table, retentionDays: 30 })
    const call = setIntervalSpy.mock.calls.findIndex(([, ms]) => ms === 3_600_000)
    expect(call).toBeGreaterThanOrEqual(0)
    const timer = setIntervalSpy.mock.results[call]!.value as NodeJS.Timeout
    expect(timer.hasRef()).toBe(false)
    await vi.waitFor(async () => {
      const rows = await db.query(`SELECT action FROM ${table}`)
      expect(rows.map((r) => r.action)).toEqual(['recent'])
    })
    await app.close()
    app = undefined
    expect((timer as unknown as { _destroyed: boolean })._destroyed).toBe(true)
  })
})
