import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { DEFAULT_SEVERITIES, SecurityEventError } from '@opskit/security-log'
import { STORE, buildApp, captureLogs, dropTables, uniqueName } from './helpers.js'

const tables: string[] = []
function table(): string {
  const name = uniqueName('security_logs_rec')
  tables.push(name)
  return name
}

describe(`recording security events (${STORE})`, () => {
  let app: FastifyInstance | undefined
  afterEach(async () => {
    await app?.close()
    app = undefined
  })
  afterAll(() => dropTables(tables))

  it('request.securityEvent stores the event with the request context and resolves with the row', async () => {
    app = await buildApp({ table: table() })
    app.post('/login', async (request) => {
      const record = await request.securityEvent('login_failure', { email: 'alice@example.com', details: { reason: 'bad password' } })
      return record
    })
    const res = await app.inject({
      method: 'POST',
      url: '/login?next=/home',
      headers: { 'x-forwarded-for': '203.0.113.7', 'user-agent': 'curl/8.0', 'x-request-id': 'req-login-1' },
    })
    expect(res.statusCode).toBe(200)
    const returned = res.json()
    expect(returned).toMatchObject({
      action: 'login_failure',
      severity: 'warning',
      user_id: null,
      user_email: 'alice@example.com',
      ip_address: '203.0.113.7',
      user_agent: 'curl/8.0',
      request_path: '/login',
      request_id: 'req-login-1',
      details: { reason: 'bad password' },
    })
    const page = await app.securityLog.query({ action: 'login_failure' })
    expect(page.total).toBe(1)
    expect(page.items[0]).toMatchObject({ ...returned, created_at: expect.any(String) })
    expect(new Date(page.items[0]!.created_at).toISOString()).toBe(returned.created_at)
  })

  it('fills user id and e-mail from the actor, and applies the default severity of every known action', async () => {
    app = await buildApp({ table: table(), autoCapture: false })
    app.post('/events/:action', async (request) => {
      const { action } = request.params as { action: string }
      return request.securityEvent(action)
    })
    for (const [action, severity] of Object.entries(DEFAULT_SEVERITIES)) {
      const res = await app.inject({ method: 'POST', url: `/events/${action}`, headers: { 'x-user': 'u42' } })
      expect(res.json(), action).toMatchObject({ action, severity, user_id: 'u42', user_email: 'u42@example.com' })
    }
    const unknown = await app.inject({ method: 'POST', url: '/events/custom_thing', headers: { 'x-user': 'u42' } })
    expect(unknown.json()).toMatchObject({ action: 'custom_thing', severity: 'info' })
    const explicit = await app.securityLog.record({ action: 'login_success', severity: 'critical', userId: 'someone' })
    expect(explicit).toMatchObject({ severity: 'critical', user_id: 'someone', ip_address: null })
  })

  it('fastify.securityLog.record() deep in a service picks the context up from the request', async () => {
    app = await buildApp({ table: table(), autoCapture: false })
    const instance = app
    async function tenantGuard(tenant: string) {
      await new Promise((r) => setImmediate(r))
      return instance.securityLog.record({ action: 'tenant_violation', details: { tenant } })
    }
    app.post('/tenants/:id', async (request) => tenantGuard((request.params as { id: string }).id))
    const res = await app.inject({ method: 'POST', url: '/tenants/t9', headers: { 'x-user': 'u5', 'x-request-id': 'svc-1' }, payload: { any: 'body' } })
    expect(res.json()).toMatchObject({ action: 'tenant_violation', severity: 'critical', user_id: 'u5', request_id: 'svc-1', request_path: '/tenants/t9', ip_address: '127.0.0.1' })
  })

  it('writes one log line per event: INFO / WARN / ERROR by severity, e-mail masked, details redacted', async () => {
    const logs = captureLogs()
    app = await buildApp({ table: table() }, { logs })
    app.post('/e/:action', async (request) => {
      const { action } = request.params as { action: string }
      return request.securityEvent(action, { email: 'bob.smith@example.com', details: { note: 'contact bob.smith@example.com' } })
    })
    for (const action of ['login_success', 'login_failure', 'account_locked']) {
      await app.inject({ method: 'POST', url: `/e/${action}`, headers: { 'x-user': 'u1' } })
    }
    const events = logs.lines().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('Security event '))
    expect(events.map((l) => [l.msg, l.level])).toEqual([
      ['Security event login_success', 30],
      ['Security event login_failure', 40],
      ['Security event account_locked', 50],
    ])
    for (const line of events) {
      expect(line).toMatchObject({ user_id: 'u1', email: 'b***h@example.com', ip: '127.0.0.1', path: expect.stringMatching(/^\/e\//) })
      expect(line.details).toEqual({ note: 'contact b***h@example.com' })
      expect(line.reqId).toBeDefined() // logged through request.log: the request id travels with it
    }
    expect(logs.text()).not.toContain('bob.smith@example.com')
    // the user_email column keeps what an investigator needs; details are stored as redacted as they are logged
    const stored = await app.securityLog.query({ action: 'login_failure' })
    expect(stored.items[0]).toMatchObject({ user_email: 'bob.smith@example.com', details: { note: 'contact b***h@example.com' } })
  })

  it('never stores or logs secrets from details', async () => {
    const logs = captureLogs()
    app = await buildApp({ table: table(), redact: ['otp'] }, { logs })
    app.post('/login', async (request) => request.securityEvent('login_failure', {
      details: {
        password: 'hunter2-secret', accessToken: 'tok-abc-123', otp: '987654', card: '4111 1111 1111 1111', nested: { apiKey: 'k-999' }, username: 'carol',
        dsn: 'postgresql://app:pg-pw-777@localhost/app', contact: 'carol.jones@example.com',
      },
    }))
    await app.inject({ method: 'POST', url: '/login' })
    await app.securityLog.flush()
    const { items } = await app.securityLog.query({})
    const stored = JSON.stringify(items)
    const logged = logs.text()
    for (const secret of ['hunter2-secret', 'tok-abc-123', '987654', '4111 1111 1111 1111', 'k-999', 'pg-pw-777', 'carol.jones@']) {
      expect(stored).not.toContain(secret)
      expect(logged).not.toContain(secret)
    }
    expect(items[0]!.details).toMatchObject({ password: '[REDACTED]', accessToken: '[REDACTED]', otp: '[REDACTED]', nested: { apiKey: '[REDACTED]' }, username: 'carol' })
  })

  it('cleans values PostgreSQL would refuse (NUL, lone surrogates, bad IPs) and bounds details, instead of blocking the queue', async () => {
    app = await buildApp({ table: table(), autoCapture: false })
    const record = await app.securityLog.record(
      { action: 'login_failure', email: 'a\u0000b@example.com', details: { raw: 'x\u0000y', broken: 'a\uD800b' } },
      { ip: 'not-an-ip', userAgent: 'ua\u0000\r\nX-Injected: 1', requestPath: '/p\u0000' },
    )
    // @opskit/store's rules, the same as audit's: each refused character becomes U+FFFD.
    expect(record).toMatchObject({ user_email: 'a\uFFFDb@example.com', ip_address: null, user_agent: 'uaX-Injected: 1', request_path: '/p\uFFFD' })
    expect(record.details).toEqual({ raw: 'x\uFFFDy', broken: 'a\uFFFDb' })
    // Keys too: details often carry a request body, whose keys the client picks. One such row used
    // to fail its INSERT forever and hold every later event in the queue.
    const keys = await app.securityLog.record({ action: 'login_failure', details: { body: { 'a\u0000b': 1, ['k\uD800']: 2, list: [{ ['\u0000']: 3 }], __proto__x: 4 } } })
    expect(keys.details).toEqual({ body: { 'a\uFFFDb': 1, 'k\uFFFD': 2, list: [{ '\uFFFD': 3 }], __proto__x: 4 } })
    const huge = await app.securityLog.record({ action: 'login_failure', details: { blob: 'x'.repeat(100_000) } })
    expect(huge.details).toEqual({ truncated: true, size: expect.any(Number) })
    const { total } = await app.securityLog.query({})
    expect(total).toBe(3)
  })

  it('details nested too deep or not serializable keep the event (a deep one used to break PGlite for good)', async () => {
    app = await buildApp({ table: table(), autoCapture: false })
    let deep: unknown = 'bottom'
    for (let i = 0; i < 1500; i++) deep = [deep] // a 3 KB JSON request body
    const tooDeep = await app.securityLog.record({ action: 'input_validation_fail', details: { body: deep } })
    expect(tooDeep.details).toEqual({ truncated: true, depth_limit: 64 })
    const bigint = await app.securityLog.record({ action: 'login_failure', details: { attempts: 10n } })
    expect(bigint.details).toEqual({ unserializable: true, error: expect.stringContaining('BigInt') })
    let deeper: unknown = 1
    for (let i = 0; i < 100_000; i++) deeper = { next: deeper }
    // Deeper than the JS stack: bounded by the depth check, never by a stack overflow.
    const stack = await app.securityLog.record({ action: 'login_failure', details: { deeper } })
    expect(stack.details).toEqual({ truncated: true, depth_limit: 64 })
    let ok: unknown = 1
    for (let i = 0; i < 63; i++) ok = [ok]
    expect((await app.securityLog.record({ action: 'login_failure', details: { ok } })).details).toEqual({ ok })
    expect((await app.securityLog.query({})).total).toBe(4)
  })

  it('an invalid event rejects without an unhandled rejection, and is logged', async () => {
    const logs = captureLogs()
    app = await buildApp({ table: table() }, { logs })
    await expect(app.securityLog.record({ action: '' })).rejects.toMatchObject({ code: 'FST_OPSKIT_SECURITY_LOG_INVALID_EVENT', message: expect.stringMatching(/action must be/) })
    await expect(app.securityLog.record({ action: 'login_failure', severity: 'fatal' as never })).rejects.toThrow(SecurityEventError)
    await expect(app.securityLog.record({ action: 'login_failure', details: 'x' as never })).rejects.toMatchObject({ code: 'FST_OPSKIT_SECURITY_LOG_INVALID_EVENT', message: expect.stringMatching(/details/) })
    // not awaited: must not crash the process (vitest fails the run on unhandled rejections)
    void app.securityLog.record({ action: 'x'.repeat(500) })
    expect(logs.lines().filter((l) => l.msg === '@opskit/security-log: invalid security event, NOT recorded')).toHaveLength(4)
  })
})
