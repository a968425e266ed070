import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig, opskit, serverOptions } from '@opskit/suite'
import { buildServer } from '../../../examples/basic/src/app.js'
import { bookingRoutes as productionBookingRoutes } from '../../../examples/production/src/bookings.js'
import { resolveActorFromHeaders } from '../../../examples/production/src/auth.js'

const DATABASE_URL = process.env.DATABASE_URL
if (DATABASE_URL === undefined) {
  console.warn('[@opskit/suite] skipped "examples/production: an anonymous flood": set DATABASE_URL to run it')
}

const silent = new Writable({ write: (_chunk, _encoding, callback) => callback() })

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

/** Six anonymous requests past a limit of three. */
async function flood(instance: FastifyInstance, url: string): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await instance.inject({ url, remoteAddress: '198.51.100.7' })).statusCode)
  return statuses
}

// Regression: the examples' auth hook ran as an app-level onRequest hook, before the limiter's
// route-level one, so an anonymous flood got only 401s (never a 429) and each 401 wrote a
// token_invalid security row.
describe('an anonymous flood on the documented setup (the examples) is rate limited', () => {
  it('examples/basic: 6 anonymous requests past a limit of 3 get 3 × 401, then 429s; only 3 token_invalid rows', async () => {
    app = await buildServer(loadConfig({ RATE_LIMIT_REQUESTS: '3', RATE_LIMIT_PERIOD: '60', LOG_LEVEL: 'fatal' }))
    expect(await flood(app, '/bookings')).toEqual([401, 401, 401, 429, 429, 429])
    await app.securityLog.flush()
    expect((await app.securityLog.query({ action: 'token_invalid' })).total).toBe(3)
    expect((await app.securityLog.query({ action: 'rate_limit_hit' })).total).toBe(3)
    // A signed-in client has its own budget and still gets in.
    expect((await app.inject({ url: '/bookings', headers: { 'x-user-id': 'u-staff' }, remoteAddress: '198.51.100.7' })).statusCode).toBe(200)
  })

  it.skipIf(DATABASE_URL === undefined)('examples/production: 6 anonymous requests past a limit of 3 get 3 × 401, then 429s', async () => {
    const suffix = randomBytes(4).toString('hex')
    const config = loadConfig({ DATABASE_URL: DATABASE_URL!, RATE_LIMIT_REQUESTS: '3', RATE_LIMIT_PERIOD: '60', LOG_LEVEL: 'fatal' })
    app = Fastify(serverOptions(config, { destination: silent }))
    await app.register(opskit, {
      config,
      core: { resolveActor: resolveActorFromHeaders },
      audit: { table: `audit_flood_${suffix}` },
      securityLog: { table: `security_flood_${suffix}` },
    })
    await app.register(productionBookingRoutes, { pool: app.opskit.pool! })
    try {
      expect(await flood(app, '/bookings')).toEqual([401, 401, 401, 429, 429, 429])
      await app.securityLog.flush()
      expect((await app.securityLog.query({ action: 'token_invalid' })).total).toBe(3)
    } finally {
      await app.opskit.pool!.query(`DROP TABLE IF EXISTS audit_flood_${suffix}, security_flood_${suffix}`)
    }
  })
})
