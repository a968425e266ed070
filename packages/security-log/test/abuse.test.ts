import { createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { webhookSink } from '@opskit/security-log'
import type { SecurityRecord } from '@opskit/security-log'
import { REDIS_URL, STORE, buildApp, captureLogs, cleanRedis, dropTables, startReceiver, uniqueName } from './helpers.js'
import type { Receiver } from './helpers.js'

const tables: string[] = []
function table(): string {
  const name = uniqueName('security_logs_abuse')
  tables.push(name)
  return name
}
const prefixes: string[] = []
function keyPrefix(): string {
  const prefix = `${uniqueName('opskit_test_sec')}:`
  prefixes.push(prefix)
  return prefix
}

if (REDIS_URL === undefined) console.warn('[security-log] REDIS_URL is not set: the abuse tests with Redis counters are SKIPPED (memory counters are tested)')

function loginRoute(app: FastifyInstance): void {
  app.post('/login', async (request, reply) => {
    const { user } = (request.body ?? {}) as { user?: string }
    void request.securityEvent('login_failure', { userId: user ?? null })
    return reply.code(200).send({ ok: false })
  })
}

async function fail(app: FastifyInstance, times: number, ip: string, user?: string): Promise<void> {
  await Promise.all(Array.from({ length: times }, () =>
    app.inject({ method: 'POST', url: '/login', headers: { 'x-forwarded-for': ip }, payload: user === undefined ? {} : { user } })))
}

for (const counters of ['memory', 'redis'] as const) {
  describe.skipIf(counters === 'redis' && REDIS_URL === undefined)(`abuse detection with ${counters} counters (${STORE})`, () => {
    let apps: FastifyInstance[] = []
    let receiver: Receiver | undefined
    afterEach(async () => {
      vi.useRealTimers()
      await Promise.all(apps.map((a) => a.close()))
      apps = []
      await receiver?.close()
      receiver = undefined
    })
    afterAll(async () => {
      await dropTables(tables)
      await Promise.all(prefixes.map(cleanRedis))
    })
    const redis = counters === 'redis' ? REDIS_URL : undefined

    it('100 failures from one IP give exactly one suspicious_activity, one onSuspicious and one alert', async () => {
      receiver = await startReceiver()
      const suspicious: SecurityRecord[] = []
      const app = await buildApp({
        table: table(),
        redis,
        abuse: { windowMs: 60_000, thresholds: { login_failure: 10 }, keyBy: ['ip'], keyPrefix: keyPrefix(), onSuspicious: (e) => { suspicious.push(e) } },
        alerts: { sinks: [webhookSink(receiver.url)] },
      })
      apps.push(app)
      loginRoute(app)
      await fail(app, 100, '203.0.113.50')
      await app.securityLog.flush()

      const found = await app.securityLog.query({ action: 'suspicious_activity' })
      expect(found.total).toBe(1)
      expect(found.items[0]).toMatchObject({
        severity: 'critical',
        ip_address: '203.0.113.50',
        details: { trigger_action: 'login_failure', count: 10, threshold: 10, window_ms: 60_000, key_type: 'ip', key: '203.0.113.50' },
      })
      expect(suspicious).toHaveLength(1)
      expect(suspicious[0]!.id).toBe(found.items[0]!.id)
      expect((await app.securityLog.query({ action: 'login_failure' })).total).toBe(100)
      // close() returns once every delivery started has settled: what the receiver holds then is all of them.
      await app.close()
      expect(receiver.requests).toHaveLength(1)
      expect(receiver.requests[0]!.body).toMatchObject({ action: 'suspicious_activity', severity: 'critical' })
    })

    it('counts per user across IPs, and below the threshold nothing fires', async () => {
      const suspicious: SecurityRecord[] = []
      const app = await buildApp({
        table: table(),
        redis,
        abuse: { thresholds: { login_failure: 5 }, keyPrefix: keyPrefix(), onSuspicious: (e) => { suspicious.push(e) } },
      })
      apps.push(app)
      loginRoute(app)
      for (let i = 0; i < 4; i++) await fail(app, 1, `198.51.100.${i + 1}`, 'victim')
      await app.securityLog.flush()
      expect(suspicious).toHaveLength(0)
      await fail(app, 3, '198.51.100.99', 'victim')
      await app.securityLog.flush()
      expect(suspicious).toHaveLength(1)
      expect(suspicious[0]).toMatchObject({ user_id: 'victim', details: { key_type: 'user', key: 'victim' } })
    })

    it('fires again in a later window, once per window and key', async () => {
      // Memory counters read this process's clock: only Date is faked, a minute passes at once. Redis
      // counters read the Redis server's clock, which a test cannot move: there a short window passes.
      const fakeClock = counters === 'memory'
      if (fakeClock) vi.useFakeTimers({ toFake: ['Date'] })
      const windowMs = fakeClock ? 60_000 : 300
      const suspicious: SecurityRecord[] = []
      const app = await buildApp({
        table: table(),
        redis,
        abuse: { windowMs, thresholds: { login_failure: 3 }, keyBy: ['ip'], keyPrefix: keyPrefix(), onSuspicious: (e) => { suspicious.push(e) } },
      })
      apps.push(app)
      loginRoute(app)
      await fail(app, 10, '192.0.2.1')
      await fail(app, 10, '192.0.2.2')
      await app.securityLog.flush()
      expect(suspicious.map((e) => e.ip_address).sort()).toEqual(['192.0.2.1', '192.0.2.2'])
      if (fakeClock) {
        vi.setSystemTime(Date.now() + windowMs - 1)
        await fail(app, 3, '192.0.2.1') // still the same window: nothing more
        await app.securityLog.flush()
        expect(suspicious).toHaveLength(2)
        vi.setSystemTime(Date.now() + windowMs + 1)
      } else {
        await new Promise((r) => setTimeout(r, windowMs + 100))
      }
      await fail(app, 3, '192.0.2.1')
      await app.securityLog.flush()
      expect(suspicious).toHaveLength(3)
    })
  })
}

describe.skipIf(REDIS_URL === undefined)(`abuse detection shared through Redis (${STORE})`, () => {
  let apps: FastifyInstance[] = []
  afterEach(async () => {
    await Promise.all(apps.map((a) => a.close()))
    apps = []
  })
  afterAll(async () => {
    await dropTables(tables)
    await Promise.all(prefixes.map(cleanRedis))
  })

  it('two Fastify instances sharing Redis counters fire exactly once', async () => {
    const prefix = keyPrefix()
    const calls: Array<[string, SecurityRecord]> = []
    for (const name of ['a', 'b']) {
      const app = await buildApp({
        table: table(),
        redis: REDIS_URL,
        abuse: { thresholds: { login_failure: 10 }, keyBy: ['ip'], keyPrefix: prefix, onSuspicious: (e) => { calls.push([name, e]) } },
      })
      loginRoute(app)
      apps.push(app)
    }
    // 6 + 6 = 12 failures: neither instance alone reaches 10, together they do.
    await Promise.all([fail(apps[0]!, 6, '203.0.113.77'), fail(apps[1]!, 6, '203.0.113.77')])
    await Promise.all(apps.map((a) => a.securityLog.flush()))
    expect(calls).toHaveLength(1)
    await Promise.all([fail(apps[0]!, 20, '203.0.113.77'), fail(apps[1]!, 20, '203.0.113.77')])
    await Promise.all(apps.map((a) => a.securityLog.flush()))
    expect(calls).toHaveLength(1)
    const stored = await Promise.all(apps.map((a) => a.securityLog.query({ action: 'suspicious_activity' })))
    expect(stored[0]!.total + stored[1]!.total).toBe(1)
  })
})

describe(`abuse detection when Redis is down (${STORE})`, () => {
  it('falls back to memory counters with one ERROR, and requests never fail', async () => {
    const logs = captureLogs()
    const suspicious: SecurityRecord[] = []
    const app = await buildApp({
      table: table(),
      redis: 'redis://127.0.0.1:1',
      abuse: { thresholds: { login_failure: 5 }, keyBy: ['ip'], redisTimeoutMs: 200, onSuspicious: (e) => { suspicious.push(e) } },
    }, { logs })
    try {
      loginRoute(app)
      const res = await app.inject({ method: 'POST', url: '/login', headers: { 'x-forwarded-for': '192.0.2.200' } })
      expect(res.statusCode).toBe(200)
      await fail(app, 9, '192.0.2.200')
      await app.securityLog.flush()
      expect(suspicious).toHaveLength(1)
      const errors = logs.lines().filter((l) => typeof l.msg === 'string' && l.msg.includes('Redis failed'))
      expect(errors).toHaveLength(1)
      expect(errors[0]!.level).toBe(50)
    } finally {
      await app.close()
      await dropTables(tables)
    }
  })
})

describe(`abuse detection when Redis accepts connections and never answers (${STORE})`, () => {
  it('each counter call gives up after redisTimeoutMs with FST_OPSKIT_SECURITY_LOG_REDIS_TIMEOUT (logged once), counts in memory, and fastify.close() does not hang on QUIT', async () => {
    const sockets = new Set<Socket>()
    const silent = createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => undefined)
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const logs = captureLogs()
    const suspicious: SecurityRecord[] = []
    const app = await buildApp({
      table: table(),
      redis: `redis://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      abuse: { thresholds: { login_failure: 3 }, keyBy: ['ip'], redisTimeoutMs: 100, onSuspicious: (e) => { suspicious.push(e) } },
    }, { logs })
    try {
      loginRoute(app)
      await fail(app, 3, '192.0.2.201')
      await app.securityLog.flush()
      expect(suspicious).toHaveLength(1)
      const errors = logs.lines().filter((l) => typeof l.msg === 'string' && l.msg.includes('Redis failed'))
      expect(errors).toHaveLength(1)
      expect(errors[0]!.err).toMatchObject({ code: 'FST_OPSKIT_SECURITY_LOG_REDIS_TIMEOUT', message: 'Redis did not answer within 100 ms' })
    } finally {
      await app.close()
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => silent.close(() => resolve()))
    }
  })
})

describe(`abuse detection callbacks (${STORE})`, () => {
  it('an onSuspicious that throws or rejects is logged, and the suspicious_activity event is still stored', async () => {
    const logs = captureLogs()
    let calls = 0
    const app = await buildApp({
      table: table(),
      abuse: { thresholds: { login_failure: 2, authz_denied: 2 }, keyBy: ['ip'], onSuspicious: async (e) => {
        calls++
        if (e.details?.trigger_action === 'login_failure') throw new Error('firewall API down')
        return Promise.reject(new Error('lock service down'))
      } },
    }, { logs })
    try {
      loginRoute(app)
      await fail(app, 2, '192.0.2.77')
      await app.securityLog.record({ action: 'authz_denied' }, { ip: '192.0.2.78' })
      await app.securityLog.record({ action: 'authz_denied' }, { ip: '192.0.2.78' })
      await app.securityLog.flush()
      // The rejected promise is logged when it settles: await both lines.
      await vi.waitFor(() => expect(logs.lines().filter((l) => l.msg === '@opskit/security-log: abuse.onSuspicious threw')).toHaveLength(2))
      expect(calls).toBe(2)
      expect((await app.securityLog.query({ action: 'suspicious_activity' })).total).toBe(2)
    } finally {
      await app.close()
      await dropTables(tables)
    }
  })
})
