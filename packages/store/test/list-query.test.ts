import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyRequest } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { opskitCore } from '@opskit/core'
import { InvalidQueryError, listRows, parseListQuery, registerListRoute, type Database, type ListSpec } from '@opskit/store'
import { openTestDatabase, target, uniqueTable } from './test-database.js'

const spec: ListSpec = {
  filters: {
    user_id: { column: 'user_id', kind: 'text' },
    action: { column: 'action', kind: 'text' },
    ip: { column: 'ip_address', kind: 'ip' },
    from: { column: 'created_at', kind: 'date-from' },
    to: { column: 'created_at', kind: 'date-to' },
  },
}

/** A row of the test tables, as listRows() answers it. */
interface Row { id: string; details: { n: number }; created_at: string; ip_address: string }

/** Bad queries and the parameter each must be refused for (by parseListQuery and by the route). */
const bad: Array<[Record<string, unknown>, string]> = [
  [{ limit: '0' }, 'limit'],
  [{ limit: '101' }, 'limit'],
  [{ limit: '5.5' }, 'limit'],
  [{ limit: 'ten' }, 'limit'],
  [{ skip: '-1' }, 'skip'],
  [{ skip: 'x' }, 'skip'],
  [{ from: 'yesterday' }, 'from'],
  [{ to: '2024-13-45' }, 'to'],
  [{ from: '2024-02-30' }, 'from'],
  [{ to: '2023-02-29T10:00:00Z' }, 'to'],
  [{ ip: '999.1.1.1' }, 'ip'],
  [{ colour: 'red' }, 'colour'],
  [{ action: ['a', 'b'] }, 'action'],
  [{ user_id: '' }, 'user_id'],
  [{ user_id: 'x'.repeat(513) }, 'user_id'],
  [{ action: 'a\u0000b' }, 'action'],
  [{ from: '2024-05-03', to: '2024-05-02T23:00:00Z' }, 'from'],
]

describe('parseListQuery', () => {
  it('defaults to limit 50, skip 0, no filters', () => {
    expect(parseListQuery({}, spec)).toEqual({ limit: 50, skip: 0, filters: [] })
    expect(parseListQuery(undefined, spec)).toEqual({ limit: 50, skip: 0, filters: [] })
  })

  it('parses filters and pagination', () => {
    const parsed = parseListQuery({ user_id: 'u1', from: '2024-05-01', ip: '::1', limit: '100', skip: '20' }, spec)
    expect(parsed.limit).toBe(100)
    expect(parsed.skip).toBe(20)
    expect(parsed.filters).toEqual([
      { param: 'user_id', column: 'user_id', kind: 'text', value: 'u1' },
      { param: 'from', column: 'created_at', kind: 'date-from', value: '2024-05-01T00:00:00.000Z' },
      { param: 'ip', column: 'ip_address', kind: 'ip', value: '::1' },
    ])
  })

  it('a plain day in "to" covers that whole day (UTC); a time is an inclusive instant', () => {
    expect(parseListQuery({ to: '2024-05-01' }, spec).filters).toEqual([
      { param: 'to', column: 'created_at', kind: 'date-to', value: '2024-05-02T00:00:00.000Z', exclusive: true },
    ])
    expect(parseListQuery({ to: '2024-05-01T10:00:00Z' }, spec).filters).toEqual([
      { param: 'to', column: 'created_at', kind: 'date-to', value: '2024-05-01T10:00:00.000Z' },
    ])
  })

  it('a time without an offset is UTC whatever the server time zone; +02 is +02:00', () => {
    const tz = process.env.TZ
    process.env.TZ = 'America/New_York'
    try {
      const values = (query: Record<string, string>) => parseListQuery(query, spec).filters.map((f) => f.value)
      expect(values({ from: '2024-05-01T10:00', to: '2024-05-01 10:00:30' })).toEqual(['2024-05-01T10:00:00.000Z', '2024-05-01T10:00:30.000Z'])
      expect(values({ from: '2024-05-01T10:00+02', to: '2024-05-01T10:00-0530' })).toEqual(['2024-05-01T08:00:00.000Z', '2024-05-01T15:30:00.000Z'])
    } finally {
      if (tz === undefined) delete process.env.TZ
      else process.env.TZ = tz
    }
  })

  it('refuses a "from" after "to" (an empty range is a mistake, not a page of nothing)', () => {
    expect(() => parseListQuery({ from: '2024-05-02', to: '2024-05-01' }, spec)).toThrow('invalid query parameter "from": must not be after "to"')
    expect(() => parseListQuery({ from: '2024-05-01T10:00:01Z', to: '2024-05-01T10:00:00Z' }, spec)).toThrow(/"from": must not be after "to"/)
    // The same instant (inclusive) and the same plain day (the whole day) are ranges.
    expect(parseListQuery({ from: '2024-05-01T10:00:00Z', to: '2024-05-01T10:00:00Z' }, spec).filters).toHaveLength(2)
    expect(parseListQuery({ from: '2024-05-01', to: '2024-05-01' }, spec).filters).toHaveLength(2)
    expect(() => parseListQuery({ from: '2024-05-02T00:00:00Z', to: '2024-05-01' }, spec)).toThrow(/"from"/)
  })

  for (const [query, param] of bad) {
    it(`rejects ${JSON.stringify(query)} with a 400 naming "${param}"`, () => {
      let caught: any
      try {
        parseListQuery(query, spec)
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(InvalidQueryError)
      expect(caught).toMatchObject({ statusCode: 400, code: 'FST_OPSKIT_INVALID_QUERY', parameter: param })
      expect(caught?.message).toContain(`"${param}"`)
    })
  }
})

describe(`listRows and registerListRoute against ${target}`, () => {
  let db: Database
  const table = uniqueTable('store_list')

  beforeAll(async () => {
    db = await openTestDatabase()
    await db.query(`CREATE TABLE ${table} (id uuid PRIMARY KEY, user_id text, action text, ip_address inet, details jsonb, created_at timestamptz NOT NULL)`)
    const base = Date.parse('2024-05-01T00:00:00Z')
    for (let i = 0; i < 12; i++) {
      await db.query(`INSERT INTO ${table} VALUES ($1, $2, $3, $4, $5::jsonb, $6)`, [
        randomUUID(), i % 2 === 0 ? 'alice' : 'bob', i % 3 === 0 ? 'login' : 'update', `10.0.0.${i}`,
        JSON.stringify({ n: i }), new Date(base + i * 86_400_000).toISOString(),
      ])
    }
  })
  afterAll(async () => {
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.close()
  })

  it('returns newest first with total, limit and skip, rows JSON-friendly', async () => {
    const page = await listRows<Row>(db, table, parseListQuery({ limit: '5', skip: '2' }, spec))
    expect(page.total).toBe(12)
    expect(page.limit).toBe(5)
    expect(page.skip).toBe(2)
    expect(page.items.map((row) => row.details.n)).toEqual([9, 8, 7, 6, 5])
    const first = page.items[0]!
    expect(typeof first.id).toBe('string')
    expect(first.created_at).toBe('2024-05-10T00:00:00.000Z')
    expect(first.ip_address).toBe('10.0.0.9')
  })

  it('combines filters (text, ip, date range)', async () => {
    const byUser = await listRows<Row>(db, table, parseListQuery({ user_id: 'alice', action: 'login' }, spec))
    expect(byUser.items.map((row) => row.details.n)).toEqual([6, 0])
    expect(byUser.total).toBe(2)
    const byIp = await listRows<Row>(db, table, parseListQuery({ ip: '10.0.0.3' }, spec))
    expect(byIp.items.map((row) => row.details.n)).toEqual([3])
    const range = await listRows<Row>(db, table, parseListQuery({ from: '2024-05-03', to: '2024-05-05T00:00:00Z' }, spec))
    expect(range.items.map((row) => row.details.n)).toEqual([4, 3, 2])
    // midday rows: a plain-day "to" includes the whole of that day
    const midday = uniqueTable('store_midday')
    await db.query(`CREATE TABLE ${midday} (id uuid PRIMARY KEY, details jsonb, created_at timestamptz NOT NULL)`)
    try {
      for (const [n, at] of [[1, '2024-05-01T12:00:00Z'], [2, '2024-05-02T12:00:00Z'], [3, '2024-05-02T23:59:59.999Z'], [4, '2024-05-03T00:00:00Z']] as const) {
        await db.query(`INSERT INTO ${midday} VALUES ($1, $2::jsonb, $3)`, [randomUUID(), JSON.stringify({ n }), at])
      }
      const day = await listRows<Row>(db, midday, parseListQuery({ from: '2024-05-02', to: '2024-05-02' }, spec))
      expect(day.items.map((row) => row.details.n)).toEqual([3, 2])
      const instant = await listRows<Row>(db, midday, parseListQuery({ to: '2024-05-02T12:00:00Z' }, spec))
      expect(instant.items.map((row) => row.details.n)).toEqual([2, 1])
    } finally {
      await db.query(`DROP TABLE IF EXISTS ${midday}`)
    }
    const past = await listRows<Row>(db, table, parseListQuery({ skip: '500' }, spec))
    expect(past).toEqual({ items: [], limit: 50, skip: 500, total: 12 })
  })

  describe('GET route', () => {
    let app: ReturnType<typeof Fastify> | undefined
    afterEach(async () => {
      await app?.close()
      app = undefined
    })

    async function build(authorize?: (request: any) => boolean | Promise<boolean>) {
      app = Fastify()
      await app.register(opskitCore, {
        resolveActor: (request: FastifyRequest) => {
          const id = request.headers['x-user']
          return typeof id === 'string' ? { id, role: id === 'admin' ? 'admin' : 'user' } : null
        },
      })
      registerListRoute(app, { prefix: '/log', authorize, spec, list: (parsed) => listRows(db, table, parsed) })
      await app.ready()
      return app
    }

    it('401 without an actor, 403 when authorize says no, 200 when it says yes', async () => {
      const server = await build(async (request) => request.actor?.role === 'admin')
      const anonymous = await server.inject({ url: '/log' })
      expect(anonymous.statusCode).toBe(401)
      expect(anonymous.json()).toMatchObject({ code: 'FST_OPSKIT_UNAUTHORIZED', message: 'authentication required' })
      expect(anonymous.json().request_id).toBeDefined()
      const refused = await server.inject({ url: '/log', headers: { 'x-user': 'bob' } })
      expect(refused.statusCode).toBe(403)
      expect(refused.json()).toMatchObject({ code: 'FST_OPSKIT_FORBIDDEN' })
      const ok = await server.inject({ url: '/log?limit=2', headers: { 'x-user': 'admin' } })
      expect(ok.statusCode).toBe(200)
      const body = ok.json()
      expect(Object.keys(body).sort()).toEqual(['items', 'limit', 'skip', 'total'])
      expect(body.items).toHaveLength(2)
      expect(body.total).toBe(12)
    })

    it('400 naming the bad parameter', async () => {
      const server = await build(() => true)
      const res = await server.inject({ url: '/log?limit=1000', headers: { 'x-user': 'admin' } })
      expect(res.statusCode).toBe(400)
      expect(res.json().message).toContain('"limit"')
      const unknown = await server.inject({ url: '/log?sort=asc', headers: { 'x-user': 'admin' } })
      expect(unknown.statusCode).toBe(400)
      expect(unknown.json().message).toContain('"sort"')
    })

    it('a throwing authorize is a 500 FST_OPSKIT_AUTHORIZE_FAILED without the thrown message', async () => {
      const server = await build(() => { throw new Error('vault token t-123 expired') })
      const res = await server.inject({ url: '/log', headers: { 'x-user': 'admin' } })
      expect(res.statusCode).toBe(500)
      expect(res.json()).toMatchObject({ code: 'FST_OPSKIT_AUTHORIZE_FAILED', message: 'authorization check failed' })
      expect(res.body).not.toContain('t-123')
    })

    it('declares its querystring as a JSON Schema made from the spec (what @fastify/swagger and other route tools read)', async () => {
      const schemas: unknown[] = []
      const server = Fastify()
      app = server
      server.addHook('onRoute', (route) => { if (route.url === '/log' && route.method === 'GET') schemas.push(route.schema?.querystring) })
      registerListRoute(server, { prefix: '/log', authorize: () => true, spec, list: (parsed) => listRows(db, table, parsed) })
      await server.ready()
      expect(schemas).toHaveLength(1)
      expect(Object.keys((schemas[0] as { properties: object }).properties)).toEqual(['limit', 'skip', 'user_id', 'action', 'ip', 'from', 'to'])
    })

    it('answers each bad parameter with the 400 parseListQuery() throws for it: same code, message and JSON shape', async () => {
      const server = await build(() => true)
      for (const [query] of bad) {
        const qs = new URLSearchParams()
        for (const [key, value] of Object.entries(query)) for (const v of [value].flat()) qs.append(key, String(v))
        const res = await server.inject({ url: `/log?${qs}`, headers: { 'x-user': 'admin' } })
        let thrown: any
        try { parseListQuery(query, spec) } catch (err) { thrown = err }
        expect(res.statusCode, qs.toString()).toBe(400)
        expect(Object.keys(res.json()).sort()).toEqual(['code', 'error', 'message', 'request_id', 'statusCode'])
        expect(res.json(), qs.toString()).toMatchObject({ statusCode: 400, code: 'FST_OPSKIT_INVALID_QUERY', error: 'Bad Request', message: thrown.message })
      }
      const twice = await server.inject({ url: '/log?limit=2&limit=3', headers: { 'x-user': 'admin' } })
      expect(twice.statusCode).toBe(400)
      expect(twice.json().message).toContain('"limit"')
    })

    it('asks authorize before it looks at the querystring: a refused reader gets 401 / 403, never a 400', async () => {
      const server = await build((request) => request.actor?.role === 'admin')
      expect((await server.inject({ url: '/log?colour=red' })).statusCode).toBe(401)
      expect((await server.inject({ url: '/log?limit=1000', headers: { 'x-user': 'bob' } })).statusCode).toBe(403)
    })

    it('is not registered at all without authorize', async () => {
      const server = await build(undefined)
      expect((await server.inject({ url: '/log', headers: { 'x-user': 'admin' } })).statusCode).toBe(404)
    })
  })
})
