import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '@opskit/suite'
import { buildServer } from '../../../examples/basic/src/app.js'

let app: FastifyInstance | undefined
const savedKey = process.env.OPS_KEY
afterEach(async () => {
  await app?.close()
  app = undefined
  if (savedKey === undefined) delete process.env.OPS_KEY
  else process.env.OPS_KEY = savedKey
})

describe('examples/basic: the console a newcomer opens at /ops', () => {
  it('opens for a browser on the machine, shows health, traffic, the audit trail, security events and the bookings gauge', async () => {
    app = await buildServer(loadConfig({ LOG_LEVEL: 'fatal' }))
    const page = await app.inject({ url: '/ops', remoteAddress: '127.0.0.1' })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('<section id="audit"')
    const parts = (await app.inject({ url: '/ops/api/parts', remoteAddress: '::1' })).json().parts
    expect(parts).toMatchObject({ health: true, traffic: true, slowest: true, audit: true, securityEvents: true, rateLimits: true, gauges: true })

    const created = await app.inject({ method: 'POST', url: '/bookings', headers: { 'x-user-id': 'u-staff' }, payload: { guest: 'Ada', room: '12', nights: 2 } })
    expect(created.statusCode).toBe(201)
    const audit = (await app.inject({ url: '/ops/api/audit?action=create', remoteAddress: '127.0.0.1' })).json()
    expect(audit.items[0]).toMatchObject({ action: 'create', entity_type: 'booking', user_id: 'u-staff' })
    const gauges = (await app.inject({ url: '/ops/api/gauges', remoteAddress: '127.0.0.1' })).json()
    expect(gauges.metrics).toContainEqual(expect.objectContaining({ name: 'bookings', values: [{ labels: { status: 'pending' }, value: 1 }] }))
  })

  it('refuses other networks unless they send x-ops-key equal to OPS_KEY (or are an admin)', async () => {
    process.env.OPS_KEY = 'example-ops-key'
    app = await buildServer(loadConfig({ LOG_LEVEL: 'fatal' }))
    const remoteAddress = '203.0.113.9'
    expect((await app.inject({ url: '/ops', remoteAddress })).statusCode).toBe(401)
    expect((await app.inject({ url: '/ops', remoteAddress, headers: { 'x-ops-key': 'wrong' } })).statusCode).toBe(401)
    expect((await app.inject({ url: '/ops', remoteAddress, headers: { 'x-user-id': 'u-staff' } })).statusCode).toBe(403)
    expect((await app.inject({ url: '/ops', remoteAddress, headers: { 'x-ops-key': 'example-ops-key' } })).statusCode).toBe(200)
    expect((await app.inject({ url: '/ops/api/health', remoteAddress, headers: { 'x-user-id': 'u-admin', 'x-user-role': 'admin' } })).statusCode).toBe(200)
  })
})
