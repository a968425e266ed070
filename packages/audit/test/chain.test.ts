import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { chainHash } from '@opskit/audit'
import { DATABASE_URL, buildApp, openTestDb, target, uniqueTable, type TestDb } from './helpers.js'

const update = (i: number) => ({ action: 'update', entityType: 'booking', entityId: i, before: { n: i }, after: { n: i + 1 } })

describe(`tamper evidence (chain: true) against ${target}`, () => {
  let db: TestDb
  const tables: string[] = []
  const apps: FastifyInstance[] = []

  const newApp = async (table: string, extra: Record<string, unknown> = {}) => {
    const app = await buildApp({ connection: db.connection, table, chain: true, ...extra })
    apps.push(app)
    return app
  }
  const newTable = () => {
    const table = uniqueTable()
    tables.push(table)
    return table
  }

  beforeAll(async () => {
    db = await openTestDb()
  })
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close()
  })
  afterAll(async () => {
    for (const table of tables) await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.close()
  })

  it('group-committed rows, rows written on the caller\'s client and trigger-written rows form one unbroken chain', async () => {
    const table = newTable()
    const items = `items_${table.slice(-10)}`
    tables.unshift(items)
    const app = await newApp(table, { queue: { maxBatchSize: 7 } })
    await db.query(`CREATE TABLE ${items} (id int PRIMARY KEY, n int)`)
    await app.audit.track(items)
    await Promise.all([
      ...Array.from({ length: 60 }, (_, i) => app.audit.record(update(i))),
      db.query(`INSERT INTO ${items} SELECT g, 0 FROM generate_series(1, 40) g`).then(() => db.transaction(async (client) => {
        await app.audit.bind(client, { requestId: 'tx' })
        await client.query(`UPDATE ${items} SET n = n + 1 WHERE id <= 10`)
        await app.audit.record({ action: 'approve', entityType: 'booking', entityId: 1 }, { client })
      })),
    ])
    await app.audit.flush()
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM ${table}`)
    expect(n).toBe(60 + 40 + 10 + 1)
    expect(await app.audit.verify()).toEqual({ ok: true, checked: n })
    const seqs = await db.query(`SELECT chain_seq::int AS s FROM ${table} ORDER BY chain_seq`)
    expect(seqs.map((r) => r.s)).toEqual(Array.from({ length: n }, (_, i) => i + 1))
    const [last] = await db.query(`SELECT hash FROM ${table} ORDER BY chain_seq DESC LIMIT 1`)
    expect(await app.audit.head()).toBe(last.hash)
  })

  it.skipIf(DATABASE_URL === undefined)('two instances writing at once (two pools, concurrent INSERTs) still give one chain', async () => {
    const table = newTable()
    const a = await newApp(table, { connection: DATABASE_URL, queue: { maxBatchSize: 5, maxConcurrentWrites: 4 } })
    const b = await newApp(table, { connection: DATABASE_URL, queue: { maxBatchSize: 3, maxConcurrentWrites: 4 } })
    await Promise.all(Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? a : b).audit.record(update(i))))
    expect(await a.audit.verify()).toEqual({ ok: true, checked: 400 })
    expect(await b.audit.head()).toBe(await a.audit.head())
  })

  it.skipIf(DATABASE_URL === undefined)('callers awaiting in step fill two batches in flight at once: one unbroken chain, every row once, each batch in acceptance order', async () => {
    const table = newTable()
    const pg = (await import('pg')).default
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 })
    // Counts the audit INSERTs in flight at once, and the ids of each, as sent.
    let inFlight = 0
    let maxInFlight = 0
    const sent: string[][] = []
    type Config = string | { text: string; values: unknown[] }
    const query = pool.query.bind(pool) as (config: Config, params?: unknown[]) => Promise<unknown>
    ;(pool as unknown as { query: typeof query }).query = async (config, params) => {
      // The prepared INSERT comes as { name, text, values }.
      if (typeof config === 'string' || !config.text.startsWith('INSERT')) return query(config, params)
      // The id column's array literal, {"<uuid>","<uuid>",...}.
      sent.push((config.values[0] as string).slice(2, -2).split('","'))
      maxInFlight = Math.max(maxInFlight, ++inFlight)
      try {
        return await query(config, params)
      } finally {
        inFlight--
      }
    }
    try {
      const app = await newApp(table, { connection: pool, queue: { maxConcurrentWrites: 2 } })
      const accepted: string[] = []
      await Promise.all(Array.from({ length: 100 }, async (_, caller) => {
        for (let round = 0; round < 4; round++) accepted.push((await app.audit.record(update(caller * 10 + round))).id)
      }))
      expect(maxInFlight).toBe(2)
      expect(sent.length).toBeGreaterThanOrEqual(8)
      expect(await app.audit.verify()).toEqual({ ok: true, checked: 400 })
      const rows = await db.query(`SELECT id::text, chain_seq::int AS s FROM ${table} ORDER BY chain_seq`)
      expect(rows.map((r) => r.s)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1))
      expect(new Set(rows.map((r) => r.id)).size).toBe(400)
      // Each batch holds consecutive chain positions, in the order it was sent.
      const position = new Map(rows.map((r) => [r.id, r.s]))
      for (const ids of sent) expect(ids.map((id) => position.get(id)! - position.get(ids[0]!)!)).toEqual(ids.map((_, i) => i))
      await app.close()
    } finally {
      await pool.end()
    }
  })

  it.skipIf(DATABASE_URL === undefined)('a second transaction appending while the first is open waits for its COMMIT, then links to its row', async () => {
    const table = newTable()
    const app = await newApp(table)
    await app.audit.record(update(0))
    const pg = (await import('pg')).default
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
    const [a, b] = [await pool.connect(), await pool.connect()]
    try {
      await a.query('BEGIN')
      await app.audit.record(update(1), { client: a })
      await b.query('BEGIN')
      const { rows: [{ pid }] } = await b.query('SELECT pg_backend_pid() AS pid')
      const second = app.audit.record(update(2), { client: b })
      // B is blocked on the chain lock (not racing A for the same chain_seq).
      let waiting: string
      for (;;) {
        const rows = await db.query(`SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = $1`, [pid])
        if (rows[0]?.wait_event_type === 'Lock') {
          waiting = rows[0].wait_event
          break
        }
        await new Promise((resolve) => setImmediate(resolve))
      }
      expect(waiting).toBe('advisory')
      await a.query('COMMIT')
      await second
      await b.query('COMMIT')
    } finally {
      a.release()
      b.release()
      await pool.end()
    }
    expect(await app.audit.verify()).toEqual({ ok: true, checked: 3 })
  })

  it('the hash is SHA-256 over prev_hash and the canonical JSON, recomputable from the columns (odd characters included)', async () => {
    const table = newTable()
    const app = await newApp(table)
    const name = 'quote " backslash \\ newline \n tab \t ctl \u0001 é 😀 \u2028'
    const first = await app.audit.record({ action: 'create', entityType: 'booking', entityId: 1, entityName: name, after: { nested: { a: [1, 2.5, null, true] }, s: name } })
    const second = await app.audit.record({ action: 'login', entityType: 'user' }, { ip: '::1', userAgent: 'ua', path: '/p', requestId: 'r' })
    const rows = await db.query(`SELECT id::text, chain_seq::text, prev_hash, hash, old_values::text AS o, new_values::text AS nv, ip_address::text AS ip,
      to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t, user_id, user_email, action, entity_type, entity_id, entity_name,
      changes_summary, user_agent, request_path, request_id FROM ${table} ORDER BY chain_seq`)
    expect(rows.map((r) => r.id)).toEqual([first.id, second.id])
    let prev: string | null = null
    for (const r of rows) {
      const fields = [r.chain_seq, r.id, r.user_id, r.user_email, r.action, r.entity_type, r.entity_id, r.entity_name, r.o, r.nv,
        r.changes_summary, r.ip, r.user_agent, r.request_path, r.request_id, r.t]
      expect(r.prev_hash).toBe(prev)
      expect(r.hash).toBe(chainHash(prev, fields))
      prev = r.hash
    }
    expect(rows[0].prev_hash).toBeNull()
    expect(await app.audit.verify()).toEqual({ ok: true, checked: 2 })
  })

  it('an altered row, a row deleted in the middle and rows deleted from the tail are each found', async () => {
    const table = newTable()
    const app = await newApp(table)
    for (let i = 0; i < 10; i++) await app.audit.record(update(i))
    const rows = await db.query(`SELECT id::text, hash FROM ${table} ORDER BY chain_seq`)
    const anchor = await app.audit.head()
    expect(anchor).toBe(rows[9].hash)
    expect(await app.audit.verify({ anchor: anchor! })).toEqual({ ok: true, checked: 10 })

    // Altered: someone rewrites a summary.
    await db.query(`UPDATE ${table} SET changes_summary = 'n: 1 → 1' WHERE id = $1`, [rows[3].id])
    expect(await app.audit.verify()).toEqual({ ok: false, checked: 3, firstBad: { id: rows[3].id, reason: 'altered: the row does not match its hash' } })
    // ... and recomputes that row's hash to hide it: the next row's link breaks.
    const [fixed] = await db.query(`SELECT prev_hash FROM ${table} WHERE id = $1`, [rows[3].id])
    const forged = await db.query(`SELECT chain_seq::text, id::text, user_id, user_email, action, entity_type, entity_id, entity_name, old_values::text, new_values::text,
      changes_summary, ip_address::text, user_agent, request_path, request_id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t FROM ${table} WHERE id = $1`, [rows[3].id])
    await db.query(`UPDATE ${table} SET hash = $1 WHERE id = $2`, [chainHash(fixed.prev_hash, Object.values(forged[0]) as string[]), rows[3].id])
    const relinked = await app.audit.verify()
    expect(relinked).toMatchObject({ ok: false, checked: 4, firstBad: { id: rows[4].id } })
    expect(relinked.firstBad!.reason).toMatch(/^prev_hash does not match/)

    // Deleted in the middle (on a fresh chain).
    const table2 = newTable()
    const app2 = await newApp(table2)
    for (let i = 0; i < 6; i++) await app2.audit.record(update(i))
    const rows2 = await db.query(`SELECT id::text FROM ${table2} ORDER BY chain_seq`)
    await db.query(`DELETE FROM ${table2} WHERE id = $1`, [rows2[2].id])
    expect(await app2.audit.verify()).toEqual({ ok: false, checked: 2, firstBad: { id: rows2[3].id, reason: 'missing rows: chain_seq 4 follows 2' } })

    // Deleted from the tail: invisible without an anchor, found against an earlier head.
    const table3 = newTable()
    const app3 = await newApp(table3)
    for (let i = 0; i < 5; i++) await app3.audit.record(update(i))
    const head = await app3.audit.head()
    await db.query(`DELETE FROM ${table3} WHERE chain_seq >= 4`)
    expect(await app3.audit.verify()).toEqual({ ok: true, checked: 3 })
    const tail = await app3.audit.verify({ anchor: head! })
    expect(tail).toMatchObject({ ok: false, checked: 3, firstBad: { id: null } })
    expect(tail.firstBad!.reason).toContain(head!)
  })

  it('verify({ from }) starts at a later row; the migration adds the columns to an existing table without losing a row', async () => {
    const table = newTable()
    const plain = await buildApp({ connection: db.connection, table })
    for (let i = 0; i < 3; i++) await plain.audit.record(update(i))
    await plain.close()
    const app = await newApp(table)
    expect(await db.query(`SELECT count(*)::int AS n, count(chain_seq)::int AS chained FROM ${table}`)).toEqual([{ n: 3, chained: 0 }])
    for (let i = 10; i < 13; i++) await app.audit.record(update(i))
    expect(await app.audit.verify()).toEqual({ ok: true, checked: 3 })
    // From the last row's time: that row (and any chained row as old as it) is checked, the older ones are not.
    const chained = await db.query(`SELECT created_at FROM ${table} WHERE chain_seq IS NOT NULL ORDER BY chain_seq`)
    const cut = chained[2].created_at as Date
    const expected = chained.length - chained.findIndex((r) => (r.created_at as Date).getTime() >= cut.getTime())
    expect(expected).toBeLessThan(3)
    expect(await app.audit.verify({ from: cut })).toEqual({ ok: true, checked: expected })
    expect(await app.audit.verify({ from: new Date(Date.now() + 60_000) })).toEqual({ ok: true, checked: 0 })
    // A restart (migration again) changes nothing.
    const again = await newApp(table)
    expect(await again.audit.verify()).toEqual({ ok: true, checked: 3 })
    // Retention deletes the oldest rows: the chain is checked from the oldest remaining row.
    await db.query(`DELETE FROM ${table} WHERE chain_seq IS NULL OR chain_seq = (SELECT min(chain_seq) FROM ${table})`)
    expect(await again.audit.verify()).toEqual({ ok: true, checked: 2 })
  })
})
