import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isSecretKey } from '@opskit/core'
import { auditableColumnsSql, AuditTrackError } from '@opskit/audit'
import { buildApp, openTestDb, target, uniqueTable, type TestDb } from './helpers.js'

describe(`auditable records (track / bind) against ${target}`, () => {
  let db: TestDb
  let app: FastifyInstance
  const table = uniqueTable()
  const bookings = `bookings_${table.slice(-10)}`
  const plain = `plain_${table.slice(-10)}`

  const auditRows = (where = '', params: unknown[] = []) =>
    db.query(`SELECT * FROM ${table} WHERE entity_type = $1 ${where} ORDER BY created_at, id`, [bookings, ...params])

  beforeAll(async () => {
    db = await openTestDb()
    await db.query(`CREATE TABLE ${bookings} (id text PRIMARY KEY, status text, amount int, api_token text, ${auditableColumnsSql})`)
    await db.query(`CREATE TABLE ${plain} (a int, b int, PRIMARY KEY (a, b), note text)`)
    app = await buildApp({ connection: db.connection, table, redact: ['internal_note'] }, {
      routes: (a) => {
        a.put<{ Params: { id: string }; Body: { status: string } }>('/bookings/:id', async (request) => {
          await db.transaction(async (client) => {
            await app.audit.bind(client)
            await client.query(`UPDATE ${bookings} SET status = $1 WHERE id = $2`, [request.body.status, request.params.id])
          })
          return { ok: true }
        })
        a.post<{ Body: { id: string } }>('/bookings/fail', async (request, reply) => {
          await db.transaction(async (client) => {
            await app.audit.bind(client)
            await client.query(`UPDATE ${bookings} SET status = 'lost' WHERE id = $1`, [request.body.id])
            throw new Error('payment declined')
          }).catch(() => undefined)
          return reply.code(409).send({ rolledBack: true })
        })
      },
    })
    await app.audit.track(bookings)
  })
  afterAll(async () => {
    await app.close()
    for (const t of [bookings, plain, table]) await db.query(`DROP TABLE IF EXISTS ${t}`)
    await db.close()
  })

  it('auditableColumnsSql is the contract\'s column list', () => {
    expect(auditableColumnsSql).toBe('date_added timestamptz not null default now(), date_updated timestamptz not null default now(), added_by text, updated_by text, deleted_at timestamptz')
  })

  it('an INSERT by raw SQL is recorded as create with the full row, secret columns redacted, no actor', async () => {
    await db.query(`INSERT INTO ${bookings} (id, status, amount, api_token) VALUES ('b1', 'pending', 10, 'tok-123')`)
    const [row] = await auditRows(`AND entity_id = 'b1'`)
    expect(row).toMatchObject({
      action: 'create', entity_type: bookings, entity_id: 'b1', user_id: null, request_id: null, old_values: null,
      changes_summary: `created ${bookings} b1`,
    })
    expect(row.new_values).toMatchObject({ id: 'b1', status: 'pending', amount: 10, api_token: '[REDACTED]', deleted_at: null })
    expect(JSON.stringify(row)).not.toContain('tok-123')
  })

  it('a raw UPDATE inside a request after bind(): the audit row carries actor, IP, path, request id, trace id; the record carries updated_by', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const res = await app.inject({
      method: 'PUT', url: '/bookings/b1?x=1', payload: { status: 'confirmed' },
      headers: { 'x-user': 'u-7', 'x-email': 'ann@example.com', 'user-agent': 'test-agent/1', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    })
    expect(res.statusCode).toBe(200)
    const rows = await auditRows(`AND entity_id = 'b1' AND action = 'update'`)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      user_id: 'u-7', user_email: 'ann@example.com', ip_address: '127.0.0.1', user_agent: 'test-agent/1',
      request_path: '/bookings/b1', request_id: res.headers['x-request-id'], trace_id: traceId,
      old_values: { status: 'pending' }, new_values: { status: 'confirmed' },
      changes_summary: 'status: "pending" → "confirmed"',
    })
    const [record] = await db.query(`SELECT updated_by, added_by, date_updated > date_added AS bumped FROM ${bookings} WHERE id = 'b1'`)
    expect(record).toEqual({ updated_by: 'u-7', added_by: null, bumped: true })
  })

  it('a bulk UPDATE outside any request: one audit row per row, with a null actor and request id', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => `bulk-${i}`)
    await db.query(`INSERT INTO ${bookings} (id, status, amount) SELECT unnest($1::text[]), 'pending', 1`, [ids])
    await db.query(`UPDATE ${bookings} SET amount = amount + 1 WHERE id LIKE 'bulk-%'`)
    const rows = await auditRows(`AND entity_id LIKE 'bulk-%' AND action = 'update'`)
    expect(rows.map((r) => r.entity_id).sort()).toEqual([...ids].sort())
    for (const row of rows) {
      expect(row).toMatchObject({ user_id: null, request_id: null, trace_id: null, old_values: { amount: 1 }, new_values: { amount: 2 }, changes_summary: 'amount: 1 → 2' })
    }
    const stamped = await db.query(`SELECT count(*)::int AS n FROM ${bookings} WHERE id LIKE 'bulk-%' AND updated_by IS NULL AND date_updated >= date_added`)
    expect(stamped[0].n).toBe(120)
  })

  it('an UPDATE that changes nothing writes no audit row and leaves date_updated alone', async () => {
    const before = await db.query(`SELECT date_updated FROM ${bookings} WHERE id = 'b1'`)
    const count = (await auditRows(`AND entity_id = 'b1'`)).length
    await db.query(`UPDATE ${bookings} SET status = status WHERE id = 'b1'`)
    expect(await auditRows(`AND entity_id = 'b1'`)).toHaveLength(count)
    expect(await db.query(`SELECT date_updated FROM ${bookings} WHERE id = 'b1'`)).toEqual(before)
  })

  it('a changed secret column shows as redacted on both sides', async () => {
    await db.query(`UPDATE ${bookings} SET api_token = 'tok-456' WHERE id = 'b1'`)
    const [row] = await auditRows(`AND entity_id = 'b1' AND changes_summary LIKE 'api_token%'`)
    expect(row).toMatchObject({ old_values: { api_token: '[REDACTED]' }, new_values: { api_token: '[REDACTED]' }, changes_summary: 'api_token: "[REDACTED]" → "[REDACTED]"' })
  })

  it('a soft delete (deleted_at set) is recorded as delete; a DELETE as delete with the full old row', async () => {
    await db.query(`INSERT INTO ${bookings} (id, status) VALUES ('b-soft', 'pending'), ('b-hard', 'pending')`)
    await db.query(`UPDATE ${bookings} SET deleted_at = now() WHERE id = 'b-soft'`)
    const [soft] = await auditRows(`AND entity_id = 'b-soft' AND action = 'delete'`)
    expect(soft.old_values).toEqual({ deleted_at: null })
    expect(typeof soft.new_values.deleted_at).toBe('string')
    expect(soft.changes_summary).toMatch(/^deleted_at: null → "\d{4}-/)

    await db.query(`DELETE FROM ${bookings} WHERE id = 'b-hard'`)
    const [hard] = await auditRows(`AND entity_id = 'b-hard' AND action = 'delete'`)
    expect(hard).toMatchObject({ new_values: null, changes_summary: `deleted ${bookings} b-hard` })
    expect(hard.old_values).toMatchObject({ id: 'b-hard', status: 'pending' })
  })

  it('a rolled-back transaction leaves no audit row (and no change)', async () => {
    const count = (await auditRows()).length
    const res = await app.inject({ method: 'POST', url: '/bookings/fail', payload: { id: 'b1' }, headers: { 'x-user': 'u-7' } })
    expect(res.json()).toEqual({ rolledBack: true })
    expect(await auditRows()).toHaveLength(count)
    expect(await db.query(`SELECT status FROM ${bookings} WHERE id = 'b1'`)).toEqual([{ status: 'confirmed' }])
  })

  it('bind() outside a request takes an explicit context (a job, a script)', async () => {
    await db.transaction(async (client) => {
      await app.audit.bind(client, { actor: { id: 'cron', email: 'ops@example.com' }, requestId: 'job-42', ip: 'not an ip' })
      await client.query(`UPDATE ${bookings} SET amount = 99 WHERE id = 'b1'`)
    })
    const [row] = await auditRows(`AND entity_id = 'b1' AND changes_summary LIKE 'amount:%'`)
    expect(row).toMatchObject({ user_id: 'cron', user_email: 'ops@example.com', request_id: 'job-42', ip_address: null })
  })

  it('bind() refuses the pool (or PGlite database) itself, where the binding would not outlive its statement', async () => {
    await expect(app.audit.bind(db.connection as never)).rejects.toThrow(/needs the client of your transaction/)
    await expect(app.audit.bind(db.connection as never)).rejects.toMatchObject({ code: 'FST_OPSKIT_AUDIT_BIND_CLIENT' })
    await expect(app.audit.bind(null as never)).rejects.toMatchObject({ code: 'FST_OPSKIT_AUDIT_BIND_CLIENT', message: expect.stringContaining('expects a pg client') })
  })

  it('track() twice leaves one set of triggers (one audit row per change); untrack() stops recording', async () => {
    await app.audit.track(bookings)
    await app.audit.track(bookings)
    await db.query(`UPDATE ${bookings} SET amount = 7 WHERE id = 'b1'`)
    expect(await auditRows(`AND entity_id = 'b1' AND changes_summary = 'amount: 99 → 7'`)).toHaveLength(1)
    const triggers = await db.query(`SELECT tgname FROM pg_trigger WHERE tgrelid = $1::regclass ORDER BY tgname`, [bookings])
    expect(triggers.map((t) => t.tgname)).toEqual(['opskit_audit_delete', 'opskit_audit_insert', 'opskit_audit_stamp', 'opskit_audit_update'])

    await app.audit.untrack(bookings)
    await db.query(`UPDATE ${bookings} SET amount = 8 WHERE id = 'b1'`)
    expect(await auditRows(`AND entity_id = 'b1' AND changes_summary = 'amount: 7 → 8'`)).toHaveLength(0)
    expect(await db.query(`SELECT tgname FROM pg_trigger WHERE tgrelid = $1::regclass`, [bookings])).toEqual([])
    await app.audit.track(bookings)
  })

  it('a table without the auditable columns gets no stamp trigger; a composite key becomes "a,b"; changed keys and key-less tables are paired right', async () => {
    await app.audit.track(plain)
    await db.query(`INSERT INTO ${plain} VALUES (1, 2, 'x')`)
    const rows = await db.query(`SELECT entity_id, action FROM ${table} WHERE entity_type = $1`, [plain])
    expect(rows).toEqual([{ entity_id: '1,2', action: 'create' }])
    // Rows whose primary key changes are paired with their old selves (by position, not by key).
    await db.query(`INSERT INTO ${plain} SELECT g, 0, 'n' || g FROM generate_series(2, 30) g`)
    await db.query(`UPDATE ${plain} SET b = b + 100 WHERE a >= 2`)
    const moved = await db.query(`SELECT entity_id, old_values, new_values FROM ${table} WHERE entity_type = $1 AND action = 'update'`, [plain])
    expect(moved).toHaveLength(29)
    for (const row of moved) expect(row).toMatchObject({ old_values: { b: 0 }, new_values: { b: 100 }, entity_id: expect.stringMatching(/^\d+,100$/) })
    const nopk = `nopk_${table.slice(-10)}`
    await db.query(`CREATE TABLE ${nopk} (label text, n int)`)
    try {
      await app.audit.track(nopk)
      await db.query(`INSERT INTO ${nopk} SELECT 'row ' || g, g FROM generate_series(1, 20) g`)
      await db.query(`UPDATE ${nopk} SET n = n * 10`)
      const paired = await db.query(`SELECT entity_id, old_values, new_values FROM ${table} WHERE entity_type = $1 AND action = 'update'`, [nopk])
      expect(paired).toHaveLength(20)
      for (const row of paired) expect(row.new_values.n).toBe(row.old_values.n * 10)
      expect(paired.every((row) => row.entity_id === null)).toBe(true)
    } finally {
      await db.query(`DROP TABLE ${nopk}`)
    }
    const triggers = await db.query(`SELECT tgname FROM pg_trigger WHERE tgrelid = $1::regclass ORDER BY tgname`, [plain])
    expect(triggers.map((t) => t.tgname)).toEqual(['opskit_audit_delete', 'opskit_audit_insert', 'opskit_audit_update'])
  })

  it('the summary lists changed columns in table order; secrets nested in jsonb columns are redacted too', async () => {
    const docs = `docs_${table.slice(-10)}`
    await db.query(`CREATE TABLE ${docs} (id int PRIMARY KEY, zeta text, alpha text, meta jsonb)`)
    try {
      await app.audit.track(docs)
      await db.query(`INSERT INTO ${docs} VALUES (1, 'z', 'a', '{"k": 1}')`)
      await db.query(`UPDATE ${docs} SET zeta = 'z2', alpha = 'a2', meta = $1::jsonb`, [JSON.stringify({ k: 2, user: { name: 'ann', password: 'hunter2' }, list: [{ accessToken: 't' }] })])
      const [row] = await db.query(`SELECT * FROM ${table} WHERE entity_type = $1 AND action = 'update'`, [docs])
      expect(row.changes_summary).toBe('zeta: "z" → "z2"; alpha: "a" → "a2"; meta: {"k": 1} → {"k": 2, "list": [{"accessToken": "[REDACTED]"}], "user": {"name": "ann", "password": "[REDACTED]"}}')
      expect(row.new_values.meta).toEqual({ k: 2, user: { name: 'ann', password: '[REDACTED]' }, list: [{ accessToken: '[REDACTED]' }] })
    } finally {
      await db.query(`DROP TABLE ${docs}`)
    }
  })

  it('track() refuses an unknown table, a bad name and the audit table itself', async () => {
    await expect(app.audit.track('no_such_table_here')).rejects.toThrow(AuditTrackError)
    await expect(app.audit.track('no_such_table_here')).rejects.toMatchObject({ code: 'FST_OPSKIT_AUDIT_TRACK', message: expect.stringContaining('does not exist') })
    await expect(app.audit.track('x; drop table y')).rejects.toThrow(/invalid table name/)
    await expect(app.audit.track(table)).rejects.toThrow(/audit table/)
  })

  // Core's own cases (its corpus: secret keys and benign look-alikes), the second-edition rules and
  // keys made of pieces that split, join and follow each other in every way core's word split handles.
  const corpus = JSON.parse(readFileSync(new URL('../../core/test/fixtures/secrets-corpus.json', import.meta.url), 'utf8')) as {
    keys: Array<{ value: Record<string, unknown> }>
    benign: { keys: Array<Record<string, unknown>> }
  }
  const flatKeys = (value: unknown): string[] => value === null || typeof value !== 'object' ? []
    : Array.isArray(value) ? value.flatMap(flatKeys) : Object.entries(value).flatMap(([k, v]) => [k, ...flatKeys(v)])
  const pieces = ['pass', 'Pass', 'word', 'Word', 'PASSWORD', 'pwd', 'sid', 'ssid', 'session', 'Id', 'id', 'API', 'api', 'Key', 'key',
    'private', 'token', 'Token', 'secret', 'ary', 'by', 'cookie', 'consent', 'type', 'at', 'changed', 'expires', 'cvc', 'ssn', 'x',
    '2', '_', '-', '.', ' ', '/', '']
  let seed = 7
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return (seed >>> 16) % n
  }
  const generated = Array.from({ length: 400 }, () => Array.from({ length: 1 + random(4) }, () => pieces[random(pieces.length)]).join(''))
  const parityKeys = [...new Set([
    'password', 'Pass_Word', 'passwd', 'accessToken', 'refresh_token', 'x-api-key', 'apiKey', 'APIKey', 'Set-Cookie', 'authorization',
    'client_secret', 'credit_card', 'cvv', 'cvc', 'pwd', 'pass', 'passphrase', 'ssn', 'sid', 'sessionId', 'session_id', 'privateKey',
    'private_key', 'userPassword2', 'x_auth_token', 'accesstoken', 'db.password', 'api key', 'api\nkey', 'password_changed_at',
    'passwordChangedAt', 'token_type', 'token_expires_at', 'cookie_consent', 'secret_name', 'secretary', 'bypass', 'ssid', 'compass',
    'passport', 'session', 'status', 'name', 'tokenizer', 'email', 'internal_note',
    ...corpus.keys.flatMap((c) => flatKeys(c.value)), ...corpus.benign.keys.flatMap(flatKeys), ...generated,
  ].filter((k) => k !== ''))]
  const expected = (key: string): string => (isSecretKey(key) || key === 'internal_note' ? '[REDACTED]' : 'v')

  it('secret keys are redacted in SQL exactly as core\'s isSecretKey() sees them, at any depth, plus the redact option', async () => {
    expect(parityKeys.filter((k) => isSecretKey(k)).length).toBeGreaterThan(100)
    expect(parityKeys.filter((k) => !isSecretKey(k)).length).toBeGreaterThan(100)
    const redacted = await db.query(
      `SELECT ${table}_opskit_redact(jsonb_build_object('nested', jsonb_build_array(jsonb_object_agg(k, 'v'))), $2::text[]) AS v FROM unnest($1::text[]) AS k`,
      [parityKeys, ['internalnote']],
    )
    const stored = (redacted[0].v as { nested: Array<Record<string, string>> }).nested[0]!
    expect(parityKeys.map((key) => ({ key, value: stored[key] }))).toEqual(parityKeys.map((key) => ({ key, value: expected(key) })))
    // Each key alone: the fast path (the value's JSON text, escapes and all) lets every secret key through.
    const alone = await db.query(
      `SELECT k AS key, ${table}_opskit_redact(jsonb_build_object(k, 'v'), $2::text[]) ->> k AS value FROM unnest($1::text[]) WITH ORDINALITY AS u(k, i) ORDER BY i`,
      [[...parityKeys, 'api\\key', 'api"key', 'x\u001fapi\tkey'], ['internalnote']],
    )
    expect(alone).toEqual([...parityKeys, 'api\\key', 'api"key', 'x\u001fapi\tkey'].map((key) => ({ key, value: expected(key) })))
  })

  it('columns are redacted by the same rule when a row is created, updated and deleted', async () => {
    const columns = parityKeys.slice(0, 60).filter((k) => k !== 'id' && k.length <= 63)
    const wide = `wide_${table.slice(-10)}`
    const ident = (k: string): string => `"${k.replace(/"/g, '""')}"`
    await db.query(`CREATE TABLE ${wide} (id int PRIMARY KEY, ${columns.map((k) => `${ident(k)} text`).join(', ')})`)
    try {
      await app.audit.track(wide)
      await db.query(`INSERT INTO ${wide} VALUES (1, ${columns.map(() => "'v'").join(', ')})`)
      await db.query(`UPDATE ${wide} SET ${columns.map((k) => `${ident(k)} = 'w'`).join(', ')}`)
      await db.query(`DELETE FROM ${wide}`)
      const rows = await db.query(`SELECT action, old_values, new_values FROM ${table} WHERE entity_type = $1 ORDER BY created_at, id`, [wide])
      const secret = (key: string, value: string): string => (expected(key) === 'v' ? value : '[REDACTED]')
      const row = (value: string) => Object.fromEntries(columns.map((k) => [k, secret(k, value)]))
      expect(rows).toEqual([
        { action: 'create', old_values: null, new_values: { id: 1, ...row('v') } },
        { action: 'update', old_values: row('v'), new_values: row('w') },
        { action: 'delete', old_values: { id: 1, ...row('w') }, new_values: null },
      ])
    } finally {
      await db.query(`DROP TABLE ${wide}`)
    }
  })
})

describe(`trigger functions are versioned with the migrations (${target})`, () => {
  let db: TestDb
  const table = uniqueTable()
  const items = `items_${table.slice(-10)}`
  beforeAll(async () => {
    db = await openTestDb()
  })
  afterAll(async () => {
    await db.query(`DROP TABLE IF EXISTS ${items}`)
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.close()
  })

  it('an older function is replaced at startup; a newer one is never downgraded', async () => {
    const capture = `${table}_opskit_capture`
    const comment = async () => (await db.query(`SELECT obj_description($1::regprocedure, 'pg_proc') AS c`, [`${capture}()`]))[0].c
    // What an older opskit left behind: a capture function that writes nothing.
    await db.query(`CREATE FUNCTION ${capture}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`)
    await db.query(`COMMENT ON FUNCTION ${capture}() IS 'opskit-audit v0'`)
    await db.query(`CREATE TABLE ${items} (id int PRIMARY KEY, label text)`)
    let app = await buildApp({ connection: db.connection, table })
    expect(await comment()).toBe('opskit-audit v3')
    await app.audit.track(items)
    await db.query(`INSERT INTO ${items} VALUES (1, 'a')`)
    expect(await db.query(`SELECT entity_id FROM ${table}`)).toEqual([{ entity_id: '1' }])
    await app.close()

    // A newer opskit's function (here: one that writes nothing, marked v99) is left as it is.
    await db.query(`CREATE OR REPLACE FUNCTION ${capture}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`)
    await db.query(`COMMENT ON FUNCTION ${capture}() IS 'opskit-audit v99'`)
    app = await buildApp({ connection: db.connection, table })
    await app.audit.track(items)
    expect(await comment()).toBe('opskit-audit v99')
    await db.query(`INSERT INTO ${items} VALUES (2, 'b')`)
    expect(await db.query(`SELECT entity_id FROM ${table}`)).toEqual([{ entity_id: '1' }])
    await app.close()
  })
})
