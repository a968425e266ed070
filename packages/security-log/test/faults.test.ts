import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { opskitCore, requestIdGenerator } from '@opskit/core'
import { opskitSecurityLog, type SecurityLogOptions } from '@opskit/security-log'
import { contextLogger } from '../../../test-utils/fault-logger.js'
import { useFaultProxy } from '../../../test-utils/fault-proxy.js'
import { DATABASE_URL } from './helpers.js'

if (DATABASE_URL === undefined) console.info('[@opskit/security-log tests] DATABASE_URL unset: the fault tests (a TCP proxy in front of PostgreSQL) are skipped')

describe.skipIf(DATABASE_URL === undefined)('security-log faults over real sockets, PostgreSQL behind a TCP proxy', () => {
  let app: FastifyInstance | undefined
  let baseUrl = ''
  const { proxy, direct, newTable } = useFaultProxy(DATABASE_URL, {
    tablePrefix: 'security_faults',
    afterEach: async () => {
      await app?.close()
      app = undefined
    },
  })

  async function start(options: SecurityLogOptions, logger: FastifyBaseLogger, existing?: string): Promise<{ server: FastifyInstance; table: string }> {
    const table = existing ?? newTable()
    const server: FastifyInstance = Fastify({ genReqId: requestIdGenerator(), loggerInstance: logger })
    app = server
    await server.register(opskitCore, { resolveActor: (request) => (typeof request.headers['x-user'] === 'string' ? { id: request.headers['x-user'] } : null) })
    await server.register(opskitSecurityLog, { connection: proxy.url(DATABASE_URL!), table, autoCapture: false, ...options })
    server.post('/login', async (request) => {
      const record = await request.securityEvent('login_failure', { details: { user: 'ann' } })
      return { id: record.id }
    })
    server.post('/fire', async (request) => {
      void request.securityEvent('login_failure')
      return { ok: true }
    })
    await server.listen({ port: 0, host: '127.0.0.1' })
    baseUrl = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`
    return { server, table }
  }

  it('an event the database refuses for its content rejects only its own record(), naming the field; the others of its batch are stored', async () => {
    const { lines, logger } = contextLogger()
    const { server, table } = await start({}, logger)
    // A rule the application's DBA added to the table.
    await direct.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_ua_check CHECK (user_agent IS NULL OR user_agent NOT LIKE '%poison%')`)
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) =>
      server.securityLog.record({ action: 'login_failure', details: { i } }, { userAgent: i === 11 ? 'poison/1.0' : 'fine/1.0' }),
    ))
    const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [{ i, reason: r.reason as Error & { code?: string; fields?: string[] } }] : []))
    expect(rejected.map((r) => r.i)).toEqual([11])
    expect(rejected[0]!.reason.code).toBe('FST_OPSKIT_REFUSED')
    expect(rejected[0]!.reason.fields).toEqual(['user_agent'])
    const { rows } = await direct.query(`SELECT count(*)::int AS n FROM ${table}`)
    expect(rows[0].n).toBe(29)
    const line = lines.find((l) => l.level === 50 && l.msg.includes('REFUSED by the database'))
    expect(line?.fields).toEqual(['user_agent'])
    expect(lines.some((l) => l.msg.includes('writing security events failed'))).toBe(false)
  })

  it('PostgreSQL goes silent: an awaited request.securityEvent() settles within 15 s saying it is not committed yet, the outage line has no request_id, and the event is written once when the database answers', async () => {
    const { lines, logger } = contextLogger()
    const { server, table } = await start({}, logger)
    proxy.hang()
    const startedAt = Date.now()
    const res = await fetch(`${baseUrl}/login`, { method: 'POST' })
    expect(Date.now() - startedAt).toBeLessThan(15_000)
    expect(res.status).toBe(503)
    expect((await res.json() as { message: string }).message).toContain('not committed yet')
    const outage = lines.find((l) => l.level === 50 && l.msg.includes('writing security events failed'))
    expect(outage).toBeDefined()
    expect(outage!.request_id).toBeUndefined()
    proxy.pass()
    await server.securityLog.flush()
    const { rows } = await direct.query(`SELECT count(*)::int AS n FROM ${table}`)
    expect(rows[0].n).toBe(1)
    expect(lines.find((l) => l.msg.includes('written again'))?.request_id).toBeUndefined()
  })

  it('fastify.close() returns within closeTimeoutMs plus a few seconds while PostgreSQL hangs, logging what it could not write', async () => {
    const { lines, logger } = contextLogger()
    const { server } = await start({ queue: { closeTimeoutMs: 1000 } }, logger)
    proxy.hang()
    for (let i = 0; i < 4; i++) expect((await fetch(`${baseUrl}/fire`, { method: 'POST' })).status).toBe(200)
    const closing = Date.now()
    await server.close()
    app = undefined
    expect(Date.now() - closing).toBeLessThan(1000 + 5000)
    const gaveUp = lines.find((l) => l.level === 50 && l.msg.includes('NOT written'))
    expect(gaveUp?.unwritten).toBe(4)
    expect(gaveUp?.request_id).toBeUndefined()
  })

  it('GET /security/events?user_id=%00 is a 400 naming the parameter', async () => {
    const { logger } = contextLogger()
    await start({ routes: { authorize: () => true } }, logger)
    const res = await fetch(`${baseUrl}/security/events?user_id=%00`, { headers: { 'x-user': 'auditor' } })
    const body = await res.json() as { message: string }
    expect(res.status).toBe(400)
    expect(body.message).toContain('"user_id"')
  })

  it('with spool: { dir }, events still unwritten when close() gives up during an outage are kept on disk and written exactly once by the next start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'opskit-security-spool-'))
    try {
      const { lines, logger } = contextLogger()
      const { server, table } = await start({ spool: { dir }, queue: { closeTimeoutMs: 500, retryBaseMs: 20, retryMaxMs: 50 } }, logger)
      await server.securityLog.record({ action: 'login_success' })
      proxy.refuse()
      for (let i = 0; i < 300; i++) void server.securityLog.record({ action: 'login_failure', details: { i } })
      await server.close()
      app = undefined
      const gaveUp = lines.find((l) => l.msg.includes('NOT written'))
      expect(gaveUp).toMatchObject({ unwritten: 300, spooled: 300 })
      expect((await readdir(dir)).some((f) => f.endsWith('.jsonl'))).toBe(true)

      proxy.pass()
      const again = contextLogger()
      const { server: next } = await start({ spool: { dir } }, again.logger, table)
      await next.securityLog.flush()
      expect(again.lines.find((l) => l.msg.includes('replaying'))?.replayed).toBe(300)
      const { rows } = await direct.query(`SELECT count(*)::int AS total, count(DISTINCT id)::int AS ids FROM ${table}`)
      expect(rows[0]).toEqual({ total: 301, ids: 301 })
      expect((await readdir(dir)).filter((f) => f.endsWith('.jsonl'))).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
