import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { getRequestContext } from '@opskit/core'
import { buildApp, captureLogs, metricsText, target, useTestDb } from './helpers.js'

describe(`request.audit() and fastify.audit.record() against ${target}`, () => {
  const { db, newTable } = useTestDb()
  let app: FastifyInstance | undefined
  afterEach(async () => {
    await app?.close()
    app = undefined
  })

  async function start(extra: Record<string, unknown> = {}, routes?: (app: FastifyInstance) => void) {
    const table = newTable()
    app = await buildApp({ connection: db.connection, table, ...extra }, { routes })
    return { app, table }
  }

  it('stores actor, e-mail, IP, user agent, path (no query) and request id from the request, and resolves with the committed row', async () => {
    const { app, table } = await start({}, (a) => {
      a.put('/bookings/:id', async (request) => {
        const record = await request.audit({
          action: 'update', entityType: 'booking', entityId: 42, entityName: 'Room 5',
          before: { status: 'pending', amount: 10, guest: { name: 'Ann' } },
          after: { status: 'confirmed', amount: 12, guest: { name: 'Ann' } },
        })
        const [row] = await db.query(`SELECT id FROM ${table} WHERE id = $1`, [record.id])
        return { record, committed: row !== undefined }
      })
    })
    const res = await app.inject({
      method: 'PUT', url: '/bookings/42?debug=1',
      headers: { 'x-user': 'u-1', 'x-email': 'ann@example.com', 'user-agent': 'test-agent/1.0', 'x-request-id': 'req-abc-1' },
      remoteAddress: '203.0.113.9',
    })
    expect(res.statusCode).toBe(200)
    const { record, committed } = res.json()
    expect(committed).toBe(true)
    const [row] = await db.query(`SELECT *, host(ip_address) AS ip FROM ${table}`)
    expect(row.id).toBe(record.id)
    expect(row.user_id).toBe('u-1')
    expect(row.user_email).toBe('ann@example.com')
    expect(row.action).toBe('update')
    expect(row.entity_type).toBe('booking')
    expect(row.entity_id).toBe('42')
    expect(row.entity_name).toBe('Room 5')
    expect(row.ip).toBe('203.0.113.9')
    expect(row.user_agent).toBe('test-agent/1.0')
    expect(row.request_path).toBe('/bookings/42')
    expect(row.request_id).toBe('req-abc-1')
    expect(row.old_values).toEqual({ status: 'pending', amount: 10 })
    expect(row.new_values).toEqual({ status: 'confirmed', amount: 12 })
    expect(row.changes_summary).toBe('status: "pending" → "confirmed"; amount: 10 → 12')
    expect(new Date(row.created_at).toISOString()).toBe(record.created_at)
  })

  it('keeps the full object on create and on delete, with a readable summary', async () => {
    const { app, table } = await start()
    const created = await app.audit.record({ action: 'create', entityType: 'booking', entityId: 'b-1', after: { status: 'pending', amount: 10 } })
    const deleted = await app.audit.record({ action: 'delete', entityType: 'booking', entityId: 'b-1', before: { status: 'pending', amount: 10 } })
    expect(created.old_values).toBeNull()
    expect(created.new_values).toEqual({ status: 'pending', amount: 10 })
    expect(created.changes_summary).toBe('created booking b-1')
    expect(deleted.old_values).toEqual({ status: 'pending', amount: 10 })
    expect(deleted.new_values).toBeNull()
    expect(deleted.changes_summary).toBe('deleted booking b-1')
    const rows = await db.query(`SELECT changes_summary FROM ${table} ORDER BY created_at, changes_summary`)
    expect(rows.map((r) => r.changes_summary).sort()).toEqual(['created booking b-1', 'deleted booking b-1'])
  })

  it('stores changed fields only, comparing nested objects and arrays by value, and records added / removed fields', async () => {
    const { app } = await start()
    const record = await app.audit.record({
      action: 'update', entityType: 'user', entityId: 7,
      before: { name: 'Ann', tags: ['a', 'b'], address: { city: 'Oslo', zip: '0150' }, nickname: 'annie' },
      after: { name: 'Ann', tags: ['a', 'b'], address: { city: 'Bergen', zip: '0150' }, role: 'admin' },
    })
    expect(record.old_values).toEqual({ address: { city: 'Oslo', zip: '0150' }, nickname: 'annie' })
    expect(record.new_values).toEqual({ address: { city: 'Bergen', zip: '0150' }, role: 'admin' })
    expect(record.changes_summary).toBe('address: {"city":"Oslo","zip":"0150"} → {"city":"Bergen","zip":"0150"}; nickname: "annie" → (unset); role: (unset) → "admin"')
    const same = await app.audit.record({ action: 'update', entityType: 'user', before: { a: 1 }, after: { a: 1 } })
    expect(same.changes_summary).toBe('no changes')
  })

  it('redacts secrets, extra keys and e-mails in stored values and in the summary', async () => {
    const { app, table } = await start({ redact: ['iban'] })
    const record = await app.audit.record({
      action: 'update', entityType: 'account', entityId: 1,
      before: { password: 'old-secret-pw', iban: 'NO9386011117947', contact: 'old@example.com', apiToken: 'tok-1' },
      after: { password: 'new-secret-pw', iban: 'NO9386011117948', contact: 'new@example.com', apiToken: 'tok-2' },
    })
    const [row] = await db.query(`SELECT old_values, new_values, changes_summary FROM ${table} WHERE id = $1`, [record.id])
    const stored = JSON.stringify(row)
    for (const secret of ['old-secret-pw', 'new-secret-pw', 'NO9386011117947', 'NO9386011117948', 'old@example.com', 'new@example.com', 'tok-1', 'tok-2']) {
      expect(stored).not.toContain(secret)
    }
    expect(row.new_values).toEqual({ password: '[REDACTED]', iban: '[REDACTED]', contact: 'n***w@example.com', apiToken: '[REDACTED]' })
    expect(row.changes_summary).toContain('password: "[REDACTED]" → "[REDACTED]"')
    expect(row.changes_summary).toContain('contact: "o***d@example.com" → "n***w@example.com"')
  })

  it('turns an invalid IP into null and strips control characters from user agent and path', async () => {
    const { app } = await start()
    const record = await app.audit.record(
      { action: 'login', entityType: 'user', entityId: 'u-9' },
      { actor: { id: 'u-9' }, ip: 'not-an-ip', userAgent: 'evil\r\nX-Injected: 1', path: '/login\n', requestId: 'r-1' },
    )
    expect(record.ip_address).toBeNull()
    expect(record.user_agent).toBe('evilX-Injected: 1')
    expect(record.request_path).toBe('/login')
    expect(record.changes_summary).toBe('login user u-9')
  })

  it('stores an event whose values PostgreSQL would refuse (NUL, lone surrogate, IPv6 zone) instead of failing its whole batch forever', async () => {
    const { app, table } = await start({ queue: { closeTimeoutMs: 2000 } })
    const good = app.audit.record({ action: 'update', entityType: 'note', entityId: 'good' })
    const poisoned = app.audit.record(
      { action: 'up\u0000date', entityType: 'note', entityId: 'nul\u0000', entityName: 'a\u0000b', before: { text: 'x' }, after: JSON.parse('{"text":"y\\u0000","k\\u0000":"lone \\ud800 surrogate"}') },
      { ip: 'fe80::1%eth0' },
    )
    const [stored, weird] = await Promise.all([good, poisoned])
    expect(stored.entity_id).toBe('good')
    expect(weird).toMatchObject({
      action: 'up\uFFFDdate', entity_id: 'nul\uFFFD', entity_name: 'a\uFFFDb', ip_address: 'fe80::1',
      new_values: JSON.parse('{"text":"y\\ufffd","k\\ufffd":"lone \\ufffd surrogate"}'),
    })
    const rows = await db.query(`SELECT action, entity_id, new_values FROM ${table} ORDER BY entity_id`)
    expect(rows).toEqual([
      { action: 'update', entity_id: 'good', new_values: null },
      { action: 'up\uFFFDdate', entity_id: 'nul\uFFFD', new_values: weird.new_values },
    ])
  })

  it('stores texts that look like array syntax exactly as given, in one batch (NULL, empty, braces, commas, quotes, backslashes)', async () => {
    const { app, table } = await start()
    const names = ['NULL', '', '{a,b}', 'x,y', 'say "hi"', 'C:\\dir\\', '\\"', ' spaced ', 'line\nbreak', 'é 😀']
    const records = await Promise.all(names.map((entityName, i) => app.audit.record({
      action: 'rename', entityType: 'doc', entityId: `d${i}`, entityName,
      before: { name: 'old' }, after: { name: entityName, 'k"\\': [entityName] },
    })))
    const rows = await db.query(`SELECT entity_id, entity_name, new_values FROM ${table} ORDER BY entity_id`)
    expect(rows).toEqual(names.map((entityName, i) => ({ entity_id: `d${i}`, entity_name: entityName, new_values: records[i]!.new_values })))
    expect(rows.map((r: { new_values: { name: string } }) => r.new_values.name)).toEqual(names)
  })

  it('takes the context from getRequestContext() in code called from a handler, and none outside a request', async () => {
    async function confirmBooking(audit: FastifyInstance['audit']) {
      expect(getRequestContext()).toBeDefined()
      return audit.record({ action: 'confirm', entityType: 'booking', entityId: 5 })
    }
    const { app } = await start({}, (a) => {
      a.post('/bookings/:id/confirm', async () => confirmBooking(a.audit))
    })
    const res = await app.inject({ method: 'POST', url: '/bookings/5/confirm', headers: { 'x-user': 'u-2' } })
    expect(res.json()).toMatchObject({ user_id: 'u-2', request_path: '/bookings/5/confirm', action: 'confirm' })
    const system = await app.audit.record({ action: 'purge', entityType: 'cache' })
    expect(system).toMatchObject({ user_id: null, ip_address: null, request_id: null, request_path: null })
  })

  it('rejects an event without action or entityType with FST_OPSKIT_AUDIT_INVALID_EVENT and logs it', async () => {
    const table = newTable()
    const { lines, stream } = captureLogs()
    app = await buildApp({ connection: db.connection, table }, { logs: stream })
    await expect(app.audit.record({ action: '', entityType: 'x' })).rejects.toMatchObject({ code: 'FST_OPSKIT_AUDIT_INVALID_EVENT', name: 'InvalidAuditEventError' })
    await expect(app.audit.record({ action: 'update' } as any)).rejects.toThrow(/entityType/)
    expect(lines.filter((l) => l.level === 50 && /invalid audit event/.test(l.msg))).toHaveLength(2)
  })
  it('logs (ERROR) and counts an event recorded after close and a failed write on the caller\'s client, and still rejects', async () => {
    const table = newTable()
    const { lines, stream } = captureLogs()
    app = await buildApp({ connection: db.connection, table }, { logs: stream, metrics: true })
    const failed = await db.transaction(async (client) => {
      // An aborted transaction: the audit INSERT on this client fails.
      await client.query('SELECT 1/0').catch(() => undefined)
      return app!.audit.record({ action: 'update', entityType: 'booking', entityId: 1 }, { client }).catch((e: unknown) => e)
    }).catch((e: unknown) => e)
    expect(failed).toBeInstanceOf(Error)
    expect(lines.some((l) => l.level === 50 && /caller's client failed/.test(l.msg) && l.entity_id === '1')).toBe(true)
    const closed = app
    await closed.close()
    app = undefined
    await expect(closed.audit.record({ action: 'create', entityType: 'booking', entityId: 2 })).rejects.toMatchObject({ code: 'FST_OPSKIT_QUEUE_CLOSED' })
    expect(lines.some((l) => l.level === 50 && /REJECTED: recorded after fastify.close/.test(l.msg) && l.entity_id === '2')).toBe(true)
    const text = await metricsText(closed)
    expect(text).toContain('audit_write_failures_total 1\n')
    expect(text).toContain('audit_events_not_stored_total 2\n')
  })

  it('stores a value nested deeper than 64 levels as a marker, and the events after it still land', async () => {
    const { app, table } = await start()
    let deep: Record<string, unknown> = { leaf: 1 }
    for (let i = 0; i < 1500; i++) deep = { a: deep } // a 3 KB request body can nest this deep
    const first = await app.audit.record({ action: 'create', entityType: 'doc', entityId: 1, after: deep })
    expect(first.new_values).toEqual({ truncated: true, depth_limit: 64 })
    await app.audit.record({ action: 'create', entityType: 'doc', entityId: 2, after: { title: 'fine' } })
    const rows = await db.query(`SELECT entity_id, new_values FROM ${table} ORDER BY entity_id`)
    expect(rows).toEqual([
      { entity_id: '1', new_values: { truncated: true, depth_limit: 64 } },
      { entity_id: '2', new_values: { title: 'fine' } },
    ])
  }, 20_000)
})
