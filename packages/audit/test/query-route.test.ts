import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, captureLogs, openTestDb, target, uniqueTable, type TestDb } from './helpers.js'

describe(`GET /audit and fastify.audit.query() against ${target}`, () => {
  let db: TestDb
  let app: FastifyInstance
  let closed: FastifyInstance
  const table = uniqueTable()

  beforeAll(async () => {
    db = await openTestDb()
    app = await buildApp({
      connection: db.connection, table,
      routes: { authorize: (request) => request.actor?.role === 'auditor' },
    })
    closed = await buildApp({ connection: db.connection, table, migrate: false })
    for (let i = 0; i < 7; i++) {
      await app.audit.record(
        { action: i % 2 === 0 ? 'update' : 'delete', entityType: i < 4 ? 'booking' : 'invoice', entityId: i },
        { actor: { id: i < 3 ? 'alice' : 'bob' } },
      )
    }
    // Distinct timestamps, so "newest first" has one right answer.
    await db.query(`UPDATE ${table} SET created_at = '2025-01-01T00:00:00Z'::timestamptz + entity_id::int * interval '1 minute'`)
    await db.query(`UPDATE ${table} SET created_at = '2024-01-01T00:00:00Z' WHERE entity_id = '0'`)
  })
  afterAll(async () => {
    await app.close()
    await closed.close()
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.close()
  })

  const auditor = { 'x-user': 'a-1', 'x-role': 'auditor' }

  it('401 without an actor, 403 when authorize refuses', async () => {
    expect((await app.inject({ url: '/audit' })).statusCode).toBe(401)
    expect((await app.inject({ url: '/audit', headers: { 'x-user': 'bob' } })).statusCode).toBe(403)
  })

  it('answers { items, limit, skip, total } newest first with filters and pagination', async () => {
    const res = await app.inject({ url: '/audit?entity_type=booking&limit=2&skip=1', headers: auditor })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.total).toBe(4)
    expect(body.limit).toBe(2)
    expect(body.skip).toBe(1)
    expect(body.items.map((r: any) => r.entity_id)).toEqual(['2', '1'])
    const item = body.items[0]
    expect(Object.keys(item).sort()).toEqual([
      'action', 'changes_summary', 'created_at', 'entity_id', 'entity_name', 'entity_type', 'id', 'ip_address',
      'new_values', 'old_values', 'request_id', 'request_path', 'trace_id', 'user_agent', 'user_email', 'user_id',
    ])
    expect(item.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T/)
    const byUser = (await app.inject({ url: '/audit?user_id=alice&action=update', headers: auditor })).json()
    expect(byUser.items.map((r: any) => r.entity_id)).toEqual(['2', '0'])
    const old = (await app.inject({ url: '/audit?to=2024-06-01', headers: auditor })).json()
    expect(old.items.map((r: any) => r.entity_id)).toEqual(['0'])
    const recent = (await app.inject({ url: '/audit?from=2024-06-01T00:00:00Z&entity_id=6', headers: auditor })).json()
    expect(recent.total).toBe(1)
  })

  it('a bad parameter is a 400 that names it', async () => {
    for (const [query, name] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['skip=-2', 'skip'], ['from=nope', 'from'], ['to=2024-99-99', 'to'], ['severity=high', 'severity']]) {
      const res = await app.inject({ url: `/audit?${query}`, headers: auditor })
      expect(res.statusCode).toBe(400)
      expect(res.json().message).toContain(`"${name}"`)
    }
  })

  it('fastify.audit.query() validates the same way', async () => {
    const page = await app.audit.query({ entity_type: 'invoice', limit: 2 })
    expect(page.total).toBe(3)
    expect(page.items).toHaveLength(2)
    await expect(app.audit.query({ limit: 500 })).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('"limit"') })
  })

  it('no route without authorize: the trail is never public by accident', async () => {
    expect((await closed.inject({ url: '/audit', headers: auditor })).statusCode).toBe(404)
  })
})

describe(`GET /audit: authorize alone decides (${target})`, () => {
  let db: TestDb
  const table = uniqueTable()
  const apps: FastifyInstance[] = []
  beforeAll(async () => {
    db = await openTestDb()
  })
  afterAll(async () => {
    for (const app of apps) await app.close()
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.close()
  })

  it('serves a request with no actor when authorize says yes (an API key, a network)', async () => {
    const app = await buildApp({
      connection: db.connection, table,
      routes: { authorize: (request) => request.headers['x-ops-key'] === 'k-1' },
    })
    apps.push(app)
    await app.audit.record({ action: 'update', entityType: 'booking', entityId: 1 }, { actor: { id: 'alice' } })
    const res = await app.inject({ url: '/audit', headers: { 'x-ops-key': 'k-1' } })
    expect(res.statusCode).toBe(200)
    expect(res.json().items.map((r: any) => r.entity_id)).toEqual(['1'])
    expect((await app.inject({ url: '/audit', headers: { 'x-ops-key': 'wrong' } })).statusCode).toBe(401)
    expect((await app.inject({ url: '/audit', headers: { 'x-ops-key': 'wrong', 'x-user': 'bob' } })).statusCode).toBe(403)
  })

  it('a throwing authorize serves no row, keeps its message out of the answer and logs it', async () => {
    const logs = captureLogs()
    const app = await buildApp({
      connection: db.connection, table, migrate: false,
      routes: { authorize: async () => { throw new Error('key vault at 10.0.0.7 unreachable') } },
    }, { logs: logs.stream })
    apps.push(app)
    const res = await app.inject({ url: '/audit', headers: { 'x-user': 'alice', 'x-role': 'auditor' } })
    expect(res.statusCode).toBe(500)
    expect(res.body).not.toContain('10.0.0.7')
    expect(res.body).not.toContain('"items"')
    expect(res.json()).toMatchObject({ statusCode: 500, request_id: res.headers['x-request-id'] ?? expect.any(String) })
    const logged = logs.lines.find((l) => l.level === 50 && JSON.stringify(l).includes('10.0.0.7'))
    expect(logged?.msg).toContain('authorize')
  })
})
