import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { entityOfRoute } from '../src/auto-audit.js'
import { buildApp, target, useTestDb } from './helpers.js'

describe(`autoAudit against ${target}`, () => {
  const { db, newTable } = useTestDb()
  let app: FastifyInstance | undefined
  afterEach(async () => {
    await app?.close()
    app = undefined
  })

  async function start(autoAudit: unknown) {
    await app?.close() // a test that starts twice must not leak its first app
    const table = newTable()
    app = await buildApp({ connection: db.connection, table, autoAudit: autoAudit as any }, {
      routes: (a) => {
        a.post('/bookings', async () => ({ id: 'new' }))
        a.put('/bookings/:id', async () => ({ ok: true }))
        a.patch('/api/v1/bookings/:id/approve', async () => ({ ok: true }))
        a.delete('/bookings/:id', async (_request, reply) => reply.code(204).send())
        a.post('/bookings/:id/fail', async (_request, reply) => reply.code(422).send({ error: 'no' }))
        a.get('/bookings/:id', async () => ({ id: 1 }))
        a.post('/self/:id', async (request) => {
          await request.audit({ action: 'approve', entityType: 'booking', entityId: (request.params as any).id })
          return { ok: true }
        })
        a.post('/service/:id', async (request) => {
          await a.audit.record({ action: 'confirm', entityType: 'booking', entityId: (request.params as any).id })
          return { ok: true }
        })
        a.post('/quiet', { config: { audit: false } }, async () => ({ ok: true }))
        a.post('/auth/login', async () => ({ ok: true }))
      },
    })
    return table
  }

  async function rows(table: string) {
    await app!.audit.flush()
    return db.query(`SELECT action, entity_type, entity_id, user_id FROM ${table} ORDER BY coalesce(entity_id, '')`)
  }

  it('records successful POST/PUT/PATCH/DELETE with action from the method and entity from the route', async () => {
    const table = await start({ ignore: ['/auth'] })
    const headers = { 'x-user': 'u-1' }
    await app!.inject({ method: 'POST', url: '/bookings', headers })
    await app!.inject({ method: 'PUT', url: '/bookings/7', headers })
    await app!.inject({ method: 'PATCH', url: '/api/v1/bookings/8/approve', headers })
    await app!.inject({ method: 'DELETE', url: '/bookings/9', headers })
    expect(await rows(table)).toEqual([
      { action: 'create', entity_type: 'bookings', entity_id: null, user_id: 'u-1' },
      { action: 'update', entity_type: 'bookings', entity_id: '7', user_id: 'u-1' },
      { action: 'update', entity_type: 'bookings', entity_id: '8', user_id: 'u-1' },
      { action: 'delete', entity_type: 'bookings', entity_id: '9', user_id: 'u-1' },
    ])
  })

  it('skips failures, GETs, routes with config.audit === false, ignored paths, and requests the handler audited itself', async () => {
    const table = await start(true)
    await app!.inject({ method: 'POST', url: '/bookings/1/fail' })
    await app!.inject({ method: 'GET', url: '/bookings/1' })
    await app!.inject({ method: 'POST', url: '/quiet' })
    await app!.inject({ method: 'POST', url: '/self/3' })
    await app!.inject({ method: 'POST', url: '/service/4' })
    expect(await rows(table)).toEqual([
      { action: 'approve', entity_type: 'booking', entity_id: '3', user_id: null },
      { action: 'confirm', entity_type: 'booking', entity_id: '4', user_id: null },
    ])
    const ignoring = await start({ ignore: ['/auth'], methods: ['POST'] })
    await app!.inject({ method: 'POST', url: '/auth/login' })
    await app!.inject({ method: 'PUT', url: '/bookings/7' })
    expect(await rows(ignoring)).toEqual([])
  })

  it('is off by default', async () => {
    const table = await start(false)
    await app!.inject({ method: 'POST', url: '/bookings' })
    expect(await rows(table)).toEqual([])
  })
})

describe('entityOfRoute', () => {
  it('takes the segment before the id parameter, else the last static segment', () => {
    expect(entityOfRoute('/bookings/:id')).toEqual({ entityType: 'bookings', idParam: 'id' })
    expect(entityOfRoute('/users/:uid/bookings/:bookingId')).toEqual({ entityType: 'bookings', idParam: 'bookingId' })
    expect(entityOfRoute('/api/v1/invoices/:id/approve')).toEqual({ entityType: 'invoices', idParam: 'id' })
    expect(entityOfRoute('/bookings')).toEqual({ entityType: 'bookings', idParam: null })
    expect(entityOfRoute('/')).toEqual({ entityType: 'root', idParam: null })
  })
})
