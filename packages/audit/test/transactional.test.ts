import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, openTestDb, target, uniqueTable, type TestDb } from './helpers.js'

describe(`transactional mode ({ client }) against ${target}`, () => {
  let db: TestDb
  let app: FastifyInstance
  const table = uniqueTable()
  const bookings = `bookings_${table.slice(-10)}`

  beforeAll(async () => {
    db = await openTestDb()
    await db.query(`CREATE TABLE ${bookings} (id text PRIMARY KEY, status text)`)
    app = await buildApp({ connection: db.connection, table }, {
      routes: (a) => {
        a.post<{ Body: { id: string; fail?: boolean } }>('/bookings', async (request, reply) => {
          try {
            const record = await db.transaction(async (client) => {
              await client.query(`INSERT INTO ${bookings} (id, status) VALUES ($1, 'pending')`, [request.body.id])
              const row = await request.audit(
                { action: 'create', entityType: 'booking', entityId: request.body.id, after: { status: 'pending' } },
                { client },
              )
              if (request.body.fail === true) throw new Error('payment declined')
              return row
            })
            return record
          } catch (err) {
            return reply.code(409).send({ error: (err as Error).message })
          }
        })
      },
    })
  })
  afterEach(async () => {
    await app.audit.flush()
  })
  afterAll(async () => {
    await app.close()
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.query(`DROP TABLE IF EXISTS ${bookings}`)
    await db.close()
  })

  it('a committed change always has its audit row, written on the caller\'s client', async () => {
    const res = await app.inject({ method: 'POST', url: '/bookings', payload: { id: 'b-ok' }, headers: { 'x-user': 'u-1' } })
    expect(res.statusCode).toBe(200)
    const rows = await db.query(`SELECT id, user_id, entity_id FROM ${table} WHERE entity_id = 'b-ok'`)
    expect(rows).toEqual([{ id: res.json().id, user_id: 'u-1', entity_id: 'b-ok' }])
    expect(await db.query(`SELECT id FROM ${bookings} WHERE id = 'b-ok'`)).toHaveLength(1)
  })

  it('a rolled-back change leaves no audit row', async () => {
    const res = await app.inject({ method: 'POST', url: '/bookings', payload: { id: 'b-fail', fail: true }, headers: { 'x-user': 'u-1' } })
    expect(res.statusCode).toBe(409)
    await app.audit.flush()
    expect(await db.query(`SELECT id FROM ${bookings} WHERE id = 'b-fail'`)).toHaveLength(0)
    expect(await db.query(`SELECT id FROM ${table} WHERE entity_id = 'b-fail'`)).toHaveLength(0)
  })
})
