import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { opskitCore, requestIdGenerator } from '@opskit/core'
import { opskitMetrics } from '@opskit/metrics'
import { opskitAudit, type OpskitAuditOptions } from '@opskit/audit'
import { contextLogger } from '../../../test-utils/fault-logger.js'
import { useFaultProxy } from '../../../test-utils/fault-proxy.js'
import { actorFromHeaders, DATABASE_URL, metricsText, testMetricsOptions } from './helpers.js'

if (DATABASE_URL === undefined) console.info('[@opskit/audit tests] DATABASE_URL unset: the fault tests (a TCP proxy in front of PostgreSQL) are skipped')

/** Random text PostgreSQL cannot compress below a btree entry's ~2.7 KB limit. */
const incompressible = (chars: number): string => randomBytes(chars).toString('base64').slice(0, chars)

describe.skipIf(DATABASE_URL === undefined)('audit faults over real sockets, PostgreSQL behind a TCP proxy', () => {
  let app: FastifyInstance | undefined
  let baseUrl = ''
  const { proxy, direct, newTable } = useFaultProxy(DATABASE_URL, {
    tablePrefix: 'audit_faults',
    afterEach: async () => {
      await app?.close()
      app = undefined
    },
  })

  async function start(audit: OpskitAuditOptions, logger: pino.Logger = pino({ level: 'silent' }), routes?: (a: FastifyInstance) => void): Promise<FastifyInstance> {
    const server: FastifyInstance = Fastify({ genReqId: requestIdGenerator(), loggerInstance: logger as unknown as FastifyBaseLogger })
    app = server
    await server.register(opskitCore, { resolveActor: actorFromHeaders })
    await server.register(opskitMetrics, testMetricsOptions())
    await server.register(opskitAudit, { connection: proxy.url(DATABASE_URL!), ...audit })
    server.post('/things/:id', async (request) => {
      const body = (request.body ?? {}) as { id?: string; name?: string; after?: Record<string, unknown> }
      const id = body.id ?? (request.params as { id: string }).id
      const record = await request.audit({ action: 'update', entityType: 'thing', entityId: id, entityName: body.name, before: {}, after: body.after ?? { id } })
      return { id: record.id, entity_id: record.entity_id, new_values: record.new_values }
    })
    server.post('/fire/:id', async (request) => {
      void request.audit({ action: 'update', entityType: 'thing', entityId: (request.params as { id: string }).id })
      return { ok: true }
    })
    routes?.(server)
    await server.listen({ port: 0, host: '127.0.0.1' })
    baseUrl = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`
    return server
  }

  const post = (path: string, body: unknown = {}) =>
    fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user': 'u-1' }, body: JSON.stringify(body) })

  it('a client-supplied entity_id longer than a btree entry allows is stored cut with a marker; the events grouped with it are stored', async () => {
    const table = newTable()
    await start({ table })
    const long = incompressible(3000)
    const responses = await Promise.all([
      post('/things/long', { id: long }),
      ...Array.from({ length: 19 }, (_, i) => post(`/things/ok-${i}`)),
    ])
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200))
    const cut = await responses[0]!.json() as { entity_id: string }
    expect(cut.entity_id).toHaveLength(400)
    expect(cut.entity_id.startsWith(long.slice(0, 300))).toBe(true)
    expect(cut.entity_id.endsWith('…[truncated, 3000 chars]')).toBe(true)
    const { rows } = await direct.query(`SELECT entity_id FROM ${table}`)
    expect(rows).toHaveLength(20)
    expect(rows.map((r) => r.entity_id)).toContain(cut.entity_id)
  })

  it('an event the database refuses for its content rejects only its own request.audit(), naming the field; the 39 grouped with it are stored; logged and counted', async () => {
    const table = newTable()
    const { lines, logger } = contextLogger()
    const started = await start({ table }, logger)
    // An index the application added itself: entity_name is not bounded by the plugin.
    await direct.query(`CREATE INDEX ${table}_name_idx ON ${table} (entity_name)`)
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) =>
      started.audit.record({ action: 'update', entityType: 'thing', entityId: `e-${i}`, entityName: i === 17 ? incompressible(3000) : `name ${i}` }),
    ))
    const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [{ i, reason: r.reason as Error & { code?: string; fields?: string[] } }] : []))
    expect(rejected.map((r) => r.i)).toEqual([17])
    expect(rejected[0]!.reason.code).toBe('FST_OPSKIT_REFUSED')
    expect(rejected[0]!.reason.fields).toEqual(['entity_name'])
    expect(rejected[0]!.reason.message).toContain('"entity_name"')
    const { rows } = await direct.query(`SELECT count(*)::int AS n FROM ${table}`)
    expect(rows[0].n).toBe(39)
    const line = lines.find((l) => l.level === 50 && l.msg.includes('REFUSED by the database'))
    expect(line?.entity_id).toBe('e-17')
    expect(line?.fields).toEqual(['entity_name'])
    expect(lines.some((l) => l.msg.includes('writing audit events failed'))).toBe(false)
    expect(await metricsText(started)).toContain('audit_events_not_stored_total 1\n')
  })

  it('PostgreSQL goes silent: the outage is logged at ERROR, an awaited request.audit() settles within 15 s saying it is not committed yet, and the event is written exactly once when the database answers', async () => {
    const table = newTable()
    const { lines, logger } = contextLogger()
    await start({ table }, logger)
    proxy.hang()
    const startedAt = Date.now()
    const res = await post('/things/held-1')
    const elapsed = Date.now() - startedAt
    expect(res.status).toBe(503)
    expect((await res.json() as { message: string }).message).toContain('not committed yet')
    expect(elapsed).toBeLessThan(15_000)
    const outage = lines.find((l) => l.level === 50 && l.msg.includes('writing audit events failed'))
    expect(outage).toBeDefined()
    // A line about the store is not about a request: no request_id of the request that queued it.
    expect(outage!.request_id).toBeUndefined()
    proxy.pass()
    await app!.audit.flush()
    const { rows } = await direct.query(`SELECT count(*)::int AS n FROM ${table} WHERE entity_id = 'held-1'`)
    expect(rows[0].n).toBe(1)
    const recovered = lines.find((l) => l.msg.includes('audit writes recovered'))
    expect(recovered?.request_id).toBeUndefined()
    expect(await metricsText(app!)).toContain('audit_events_not_stored_total 0\n')
  })

  it('fastify.close() returns within closeTimeoutMs plus a few seconds while PostgreSQL hangs, logging what it could not write', async () => {
    const table = newTable()
    const { lines, logger } = contextLogger()
    const started = await start({ table, queue: { closeTimeoutMs: 1000 } }, logger)
    proxy.hang()
    for (let i = 0; i < 5; i++) expect((await post(`/fire/${i}`)).status).toBe(200)
    const closing = Date.now()
    await started.close()
    app = undefined
    expect(Date.now() - closing).toBeLessThan(1000 + 5000)
    const gaveUp = lines.find((l) => l.level === 50 && l.msg.includes('NOT written'))
    expect(gaveUp?.unwritten).toBe(5)
    expect(gaveUp?.request_id).toBeUndefined()
    expect(await metricsText(started)).toContain('audit_events_not_stored_total 5\n')
  })

  it('PostgreSQL refuses connections: the write-failure line carries no request_id of the request that queued the event', async () => {
    const table = newTable()
    const { lines, logger } = contextLogger()
    await start({ table, queue: { retryBaseMs: 20, retryMaxMs: 50 } }, logger)
    proxy.refuse()
    expect((await post('/fire/refused-1', {})).status).toBe(200)
    const inRequest = lines.find((l) => l.request_id !== undefined)
    expect(inRequest).toBeDefined() // the mixin works: request lines do carry it
    await expect.poll(() => lines.find((l) => l.msg.includes('writing audit events failed')), { timeout: 10_000 }).toBeDefined()
    expect(lines.find((l) => l.msg.includes('writing audit events failed'))!.request_id).toBeUndefined()
    proxy.pass()
    await app!.audit.flush()
    expect(lines.find((l) => l.msg.includes('audit writes recovered'))!.request_id).toBeUndefined()
  })

  it('a JSON body nested 10,000 levels is audited with the depth marker, not a 500 "Maximum call stack size exceeded"', async () => {
    const table = newTable()
    await start({ table })
    const body = `{"after":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`
    const res = await fetch(`${baseUrl}/things/deep`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    expect(res.status).toBe(200)
    expect((await res.json() as { new_values: unknown }).new_values).toEqual({ truncated: true, depth_limit: 64 })
    const { rows } = await direct.query(`SELECT new_values FROM ${table} WHERE entity_id = 'deep'`)
    expect(rows[0].new_values).toEqual({ truncated: true, depth_limit: 64 })
  })

  it('GET /audit?user_id=%00 is a 400 naming the parameter, and a too large skip states its real bound', async () => {
    const table = newTable()
    await start({ table, routes: { authorize: () => true } })
    const get = (query: string) => fetch(`${baseUrl}/audit?${query}`, { headers: { 'x-user': 'auditor' } })
    const nul = await get('user_id=%00')
    expect(nul.status).toBe(400)
    expect((await nul.json() as { message: string }).message).toContain('"user_id"')
    const skip = await get('skip=99999999999')
    expect(skip.status).toBe(400)
    expect((await skip.json() as { message: string }).message).toContain('from 0 to 999999999')
    expect((await get('skip=999999999')).status).toBe(200)
  })
})
