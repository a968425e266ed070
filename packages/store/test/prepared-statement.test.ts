import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { arrayLiteral, openDatabase, PreparedStatement, type Database } from '@opskit/store'
import { createItemsTable, DATABASE_URL, openTestDatabase, silentLogger, target, uniqueTable } from './test-database.js'

const insertText = (table: string) => `INSERT INTO ${table} (id, seq) SELECT * FROM unnest($1::uuid[], $2::int[]) ON CONFLICT (id) DO NOTHING`
const params = (seqs: number[]) => [arrayLiteral(seqs.map(() => randomUUID())), arrayLiteral(seqs.map(String))]

describe(`PreparedStatement against ${target}`, () => {
  const cleanup: Array<() => Promise<void>> = []
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step()
  })

  it('writes the same rows on every run (named on PostgreSQL, unnamed on PGlite)', async () => {
    const db = await openTestDatabase()
    const table = uniqueTable('store_prepared')
    cleanup.push(async () => {
      await db.query(`DROP TABLE IF EXISTS ${table}`)
      await db.close()
    })
    await createItemsTable(db, table)
    const insert = new PreparedStatement(insertText(table))
    for (let i = 0; i < 3; i++) await insert.run(db, params([i * 2, i * 2 + 1]))
    const { rows } = await db.query<{ seq: number }>(`SELECT seq FROM ${table} ORDER BY seq`)
    expect(rows.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5])
  })

  it.skipIf(DATABASE_URL === undefined)('is prepared once per connection, and falls back to unnamed when the server loses it (as PgBouncer in transaction mode does)', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 })
    const db: Database = await openDatabase(pool, { logger: silentLogger, pkg: '@opskit/store test' })
    const table = uniqueTable('store_prepared')
    cleanup.push(async () => {
      await pool.query(`DROP TABLE IF EXISTS ${table}`)
      await pool.end()
    })
    await createItemsTable(db, table)
    const insert = new PreparedStatement(insertText(table))
    await insert.run(db, params([1]))
    const prepared = await pool.query('SELECT name FROM pg_prepared_statements')
    expect(prepared.rows).toEqual([{ name: insert.name }])
    // The server forgets it behind the client's back: the next run fails once (the queue retries)...
    await pool.query('DEALLOCATE ALL')
    await expect(insert.run(db, params([2]))).rejects.toMatchObject({ code: '26000' })
    // ...and from then on it is sent unnamed.
    await insert.run(db, params([3]))
    await insert.run(db, params([4]))
    expect((await pool.query('SELECT name FROM pg_prepared_statements')).rows).toEqual([])
    const { rows } = await pool.query(`SELECT seq FROM ${table} ORDER BY seq`)
    expect(rows.map((r) => r.seq)).toEqual([1, 3, 4])
  })
})
