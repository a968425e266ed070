import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { loadConfig, opskit, serverOptions, type OpskitOptions } from '@opskit/suite'

const DATABASE_URL = process.env.DATABASE_URL
const REDIS_URL = process.env.REDIS_URL
const haveServices = DATABASE_URL !== undefined && REDIS_URL !== undefined
if (!haveServices) {
  console.warn('[@opskit/suite] skipped "opskit against PostgreSQL and Redis": set DATABASE_URL and REDIS_URL to run it')
}

const silent = new Writable({ write: (_chunk, _encoding, callback) => callback() })
const suffix = randomBytes(4).toString('hex')
const AUDIT_TABLE = `audit_logs_suite_${suffix}`
const SECURITY_TABLE = `security_logs_suite_${suffix}`

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

async function buildApp(env: Record<string, string>, options: Omit<OpskitOptions, 'config'> = {}) {
  const config = loadConfig(env)
  const instance = Fastify(serverOptions(config, { destination: silent }))
  app = instance
  await instance.register(opskit, {
    config,
    core: { resolveActor: (request) => (typeof request.headers['x-user-id'] === 'string' ? { id: request.headers['x-user-id'] } : null) },
    audit: { table: AUDIT_TABLE },
    securityLog: { table: SECURITY_TABLE },
    rateLimit: { keyPrefix: `opskit-suite-test-${suffix}:` },
    ...options,
  })
  instance.get('/hello', async () => ({ hello: 'world' }))
  instance.post('/bookings', async (request, reply) => {
    await request.audit({ action: 'create', entityType: 'booking', entityId: 'b-9', after: { id: 'b-9' } })
    return reply.code(201).send({ id: 'b-9' })
  })
  await instance.ready()
  return instance
}

describe.skipIf(!haveServices)('opskit against PostgreSQL and Redis', () => {
  const env = { DATABASE_URL: DATABASE_URL!, REDIS_URL: REDIS_URL!, RATE_LIMIT_REQUESTS: '3' }

  afterAll(async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL })
    await pool.query(`DROP TABLE IF EXISTS ${AUDIT_TABLE}, ${SECURITY_TABLE}`)
    await pool.end()
  })

  it('reports db and redis in the readiness check, both ok', async () => {
    const app = await buildApp(env)
    const ready = await app.inject('/health/ready')
    expect(ready.statusCode).toBe(200)
    const body = ready.json()
    expect(body.status).toBe('ok')
    expect(body.services.db).toMatchObject({ status: 'ok' })
    expect(body.services.redis).toMatchObject({ status: 'ok' })
    expect(body.services.db.latency_ms).toBeTypeOf('number')
    expect((await app.inject('/health/db')).json()).toMatchObject({ status: 'ok' })
  })

  it('writes audit rows to PostgreSQL through the one shared pool', async () => {
    const app = await buildApp(env)
    const res = await app.inject({ method: 'POST', url: '/bookings', headers: { 'x-user-id': 'u-pg', 'x-request-id': `pg-${suffix}` } })
    expect(res.statusCode).toBe(201)
    const pool = app.opskit.pool!
    const { rows } = await pool.query(`SELECT user_id, action, entity_id FROM ${AUDIT_TABLE} WHERE request_id = $1`, [`pg-${suffix}`])
    expect(rows).toEqual([{ user_id: 'u-pg', action: 'create', entity_id: 'b-9' }])
  })

  it('keeps the rate-limit budget in Redis, shared by two instances', async () => {
    const first = await buildApp(env)
    const config = loadConfig(env)
    const second = Fastify(serverOptions(config, { destination: silent }))
    await second.register(opskit, {
      config,
      audit: false,
      securityLog: false,
      rateLimit: { keyPrefix: `opskit-suite-test-${suffix}:` },
    })
    second.get('/hello', async () => ({ hello: 'world' }))
    try {
      const statuses = [
        (await first.inject('/hello')).statusCode,
        (await second.inject('/hello')).statusCode,
        (await first.inject('/hello')).statusCode,
        (await second.inject('/hello')).statusCode,
      ]
      expect(statuses).toEqual([200, 200, 200, 429])
    } finally {
      await second.close()
    }
  })

  it('records the rate_limit_hit security event in PostgreSQL', async () => {
    const app = await buildApp(env, { rateLimit: { keyPrefix: `opskit-suite-test-${suffix}-b:` } })
    for (let i = 0; i < 4; i++) await app.inject({ url: '/hello', headers: { 'x-request-id': `sec-${suffix}-${i}` } })
    await app.securityLog.flush()
    const { rows } = await app.opskit.pool!.query(`SELECT action FROM ${SECURITY_TABLE} WHERE request_id = $1`, [`sec-${suffix}-3`])
    expect(rows).toEqual([{ action: 'rate_limit_hit' }])
  })

  it('closes the shared pool and Redis client on close', async () => {
    const app = await buildApp(env)
    const pool = app.opskit.pool!
    const redis = app.opskit.redis!
    expect(redis.status).toBe('ready')
    await app.close()
    expect(pool.ended).toBe(true)
    expect(redis.status).toBe('end')
  })
})

describe('opskit with Redis down at start', () => {
  it('starts anyway: readiness reports redis failed, the limiter fails open', async () => {
    const app = await buildApp({ REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_REQUESTS: '3' }, { audit: false, securityLog: false })
    const ready = await app.inject('/health/ready')
    expect(ready.statusCode).toBe(503)
    expect(ready.json().services.redis).toMatchObject({ status: 'error' })
    for (let i = 0; i < 5; i++) expect((await app.inject('/hello')).statusCode).toBe(200)
  })
})
