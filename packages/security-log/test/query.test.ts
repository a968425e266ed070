import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { STORE, buildApp, captureLogs, dropTables, uniqueName } from './helpers.js'

const table = uniqueName('security_logs_query')

describe(`query route and securityLog.query (${STORE})`, () => {
  let app: FastifyInstance
  let midpoint: string

  beforeAll(async () => {
    app = await buildApp({
      table,
      autoCapture: false,
      routes: { authorize: (request) => request.actor?.role === 'security' },
    })
    await app.ready()
    const log = app.securityLog
    await log.record({ action: 'login_failure', userId: 'u1' }, { ip: '203.0.113.1' })
    await log.record({ action: 'login_failure', userId: 'u2' }, { ip: '203.0.113.2' })
    await log.record({ action: 'account_locked', userId: 'u1' }, { ip: '2001:db8::1' })
    await new Promise((r) => setTimeout(r, 20))
    midpoint = new Date().toISOString()
    await new Promise((r) => setTimeout(r, 20))
    await log.record({ action: 'login_success', userId: 'u1' }, { ip: '203.0.113.1' })
    await log.record({ action: 'tenant_violation', userId: 'u3' }, { ip: '203.0.113.3' })
  })
  afterAll(async () => {
    await app.close()
    await dropTables([table])
  })
  afterEach(() => undefined)

  const get = (query: string, role = 'security') =>
    app.inject({ url: `/security/events${query}`, headers: { 'x-user': 'auditor', 'x-role': role } })

  it('lists newest first with { items, limit, skip, total }', async () => {
    const res = await get('')
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ limit: 50, skip: 0, total: 5 })
    expect(body.items.map((i: { action: string }) => i.action)).toEqual(['tenant_violation', 'login_success', 'account_locked', 'login_failure', 'login_failure'])
  })

  it('filters by action, severity, user_id, ip, from and to, and pages with limit / skip', async () => {
    const actions = async (q: string) => (await get(q)).json().items.map((i: { action: string; user_id: string }) => `${i.action}:${i.user_id}`)
    expect(await actions('?action=login_failure')).toEqual(['login_failure:u2', 'login_failure:u1'])
    expect(await actions('?severity=critical')).toEqual(['tenant_violation:u3', 'account_locked:u1'])
    expect(await actions('?user_id=u1')).toEqual(['login_success:u1', 'account_locked:u1', 'login_failure:u1'])
    expect(await actions('?ip=203.0.113.1')).toEqual(['login_success:u1', 'login_failure:u1'])
    expect(await actions('?ip=2001:db8::1')).toEqual(['account_locked:u1'])
    expect(await actions(`?from=${encodeURIComponent(midpoint)}`)).toEqual(['tenant_violation:u3', 'login_success:u1'])
    expect(await actions(`?to=${encodeURIComponent(midpoint)}&user_id=u1`)).toEqual(['account_locked:u1', 'login_failure:u1'])
    const page = (await get('?limit=2&skip=1')).json()
    expect(page).toMatchObject({ limit: 2, skip: 1, total: 5 })
    expect(page.items.map((i: { action: string }) => i.action)).toEqual(['login_success', 'account_locked'])
    const direct = await app.securityLog.query({ action: 'login_failure', user_id: 'u2' })
    expect(direct.total).toBe(1)
    expect(direct.items[0]).toMatchObject({ ip_address: '203.0.113.2', created_at: expect.stringMatching(/Z$/) })
  })

  it('answers 400 naming the bad parameter', async () => {
    const cases: Array<[string, string]> = [
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?skip=-1', 'skip'],
      ['?from=yesterday', 'from'],
      ['?to=2024-13-45', 'to'],
      ['?ip=999.1.1.1', 'ip'],
      ['?severity=fatal', 'severity'],
      ['?entity_type=x', 'entity_type'],
    ]
    for (const [query, param] of cases) {
      const res = await get(query)
      expect(res.statusCode, query).toBe(400)
      expect(res.json().message, query).toContain(`"${param}"`)
    }
    await expect(app.securityLog.query({ severity: 'fatal' })).rejects.toMatchObject({ statusCode: 400 })
  })

  it('answers 401 without an actor and 403 when authorize says no', async () => {
    expect((await app.inject({ url: '/security/events' })).statusCode).toBe(401)
    expect((await get('', 'support')).statusCode).toBe(403)
  })

  it('registers no route without routes.authorize', async () => {
    const bare = await buildApp({ table, migrate: false })
    try {
      expect((await bare.inject({ url: '/security/events', headers: { 'x-user': 'a', 'x-role': 'security' } })).statusCode).toBe(404)
    } finally {
      await bare.close()
    }
  })
})

describe(`security-log route: authorize alone decides (${STORE})`, () => {
  const table = uniqueName('security_logs_authz')
  const apps: FastifyInstance[] = []
  afterAll(async () => {
    for (const app of apps) await app.close()
    await dropTables([table])
  })

  it('serves a request with no actor when authorize says yes (an API key, a network)', async () => {
    const app = await buildApp({
      table, autoCapture: false,
      routes: { authorize: (request) => request.headers['x-ops-key'] === 'k-1' },
    })
    apps.push(app)
    await app.ready()
    await app.securityLog.record({ action: 'login_failure', userId: 'u1' }, { ip: '203.0.113.1' })
    const res = await app.inject({ url: '/security/events', headers: { 'x-ops-key': 'k-1' } })
    expect(res.statusCode).toBe(200)
    expect(res.json().items.map((i: { action: string }) => i.action)).toEqual(['login_failure'])
    expect((await app.inject({ url: '/security/events', headers: { 'x-ops-key': 'nope' } })).statusCode).toBe(401)
    expect((await app.inject({ url: '/security/events', headers: { 'x-ops-key': 'nope', 'x-user': 'bob' } })).statusCode).toBe(403)
  })

  it('a throwing authorize serves no row, keeps its message out of the answer and logs it', async () => {
    const logs = captureLogs()
    const app = await buildApp({
      table, autoCapture: false, migrate: false,
      routes: { authorize: () => { throw new Error('directory at 10.0.0.9 timed out') } },
    }, { logs })
    apps.push(app)
    const res = await app.inject({ url: '/security/events', headers: { 'x-user': 'auditor', 'x-role': 'security' } })
    expect(res.statusCode).toBe(500)
    expect(res.body).not.toContain('10.0.0.9')
    expect(res.body).not.toContain('"items"')
    expect(res.json()).toMatchObject({ statusCode: 500, request_id: expect.any(String) })
    const logged = logs.lines().find((l) => l.level === 50 && JSON.stringify(l).includes('10.0.0.9'))
    expect(logged?.msg).toContain('authorize')
  })
})
