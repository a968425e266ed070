import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { auditTableSql } from '@opskit/audit'
import { buildApp, target, useTestDb } from './helpers.js'

const { db, newTable } = useTestDb()
let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'

describe(`trace_id on audit rows against ${target}`, () => {
  it('an audit_logs table made by the first-edition migration gains trace_id and keeps every row', async () => {
    const table = newTable()
    // The first edition's migration: everything but the trace_id step.
    for (const statement of auditTableSql(table).filter((s) => !s.includes('trace_id'))) await db.query(statement)
    for (let i = 0; i < 3; i++) {
      await db.query(`INSERT INTO ${table} (id, action, entity_type, entity_id, request_id) VALUES (gen_random_uuid(), 'update', 'booking', $1, $2)`, [String(i), `old-${i}`])
    }
    const before = await db.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND column_name = 'trace_id'`, [table])
    expect(before).toEqual([])

    app = await buildApp({ connection: db.connection, table }, {
      routes: (a) => a.post('/bookings/:id', async (request) => request.audit({ action: 'update', entityType: 'booking', entityId: 9, before: { s: 1 }, after: { s: 2 } })),
    })
    const traced = await app.inject({ method: 'POST', url: '/bookings/9', headers: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` } })
    expect(traced.statusCode).toBe(200)
    expect(traced.json().trace_id).toBe(TRACE_ID)
    const untraced = await app.inject({ method: 'POST', url: '/bookings/9' })
    expect(untraced.json().trace_id).toBeNull()
    await app.close()
    app = undefined

    const rows = await db.query<{ entity_id: string; request_id: string; trace_id: string | null }>(`SELECT entity_id, request_id, trace_id FROM ${table} ORDER BY created_at, entity_id`)
    expect(rows.filter((r) => r.request_id.startsWith('old-')).map((r) => [r.entity_id, r.trace_id])).toEqual([['0', null], ['1', null], ['2', null]])
    expect(rows.filter((r) => r.entity_id === '9').map((r) => r.trace_id).sort()).toEqual([TRACE_ID, null].sort())

    // The migration is idempotent: a second start changes nothing.
    app = await buildApp({ connection: db.connection, table })
    const counted = await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table}`)
    expect(counted[0]?.count).toBe(5)
  })
})
