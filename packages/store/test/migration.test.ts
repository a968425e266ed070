import { afterAll, describe, expect, it } from 'vitest'
import { MigrationFailedError, openDatabase, quoteIdent, runMigration } from '@opskit/store'
import { DATABASE_URL, openTestDatabase, silentLogger, target, uniqueTable } from './test-database.js'

function statements(table: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), note text, ip inet, data jsonb, created_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE INDEX IF NOT EXISTS ${table}_created_idx ON ${table} (created_at DESC)`,
  ]
}

describe(`runMigration against ${target}`, () => {
  const cleanups: Array<() => Promise<void>> = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  it('two Database handles migrating the same table at once both succeed, and running it again is a no-op', async () => {
    const table = uniqueTable('store_mig')
    const a = await openTestDatabase()
    // PGlite in memory is one database per handle, so the race is run on one handle there.
    const b = DATABASE_URL === undefined ? a : await openTestDatabase()
    cleanups.push(async () => {
      await a.query(`DROP TABLE IF EXISTS ${table}`)
      await a.close()
      if (b !== a) await b.close()
    })
    await Promise.all([
      runMigration(a, table, statements(table)),
      runMigration(b, table, statements(table)),
      runMigration(a, table, statements(table)),
      runMigration(b, table, statements(table)),
    ])
    await runMigration(a, table, statements(table))
    const { rows } = await a.query<{ id: string; ip: string; data: unknown }>(
      `INSERT INTO ${table} (note, ip, data) VALUES ($1, $2, $3::jsonb) RETURNING id, ip, data`,
      ['hello', '10.0.0.1', JSON.stringify({ a: 1 })],
    )
    expect(rows[0]!.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(rows[0]!.data).toEqual({ a: 1 })
  })

  it('rolls back every statement when one fails', async () => {
    const table = uniqueTable('store_mig')
    const db = await openTestDatabase()
    cleanups.push(async () => {
      await db.query(`DROP TABLE IF EXISTS ${table}`)
      await db.close()
    })
    const failed = await runMigration(db, table, [...statements(table), 'CREATE INDEX broken ON nowhere_at_all (x)']).catch((err: unknown) => err)
    expect(failed).toBeInstanceOf(MigrationFailedError)
    expect(failed).toMatchObject({ code: 'FST_OPSKIT_STORE_MIGRATION_FAILED', message: expect.stringContaining(`migration "${table}" failed`) })
    // The database's own error stays reachable: 42P01 undefined_table.
    expect((failed as Error).cause).toMatchObject({ code: '42P01' })
    const { rows } = await db.query(`SELECT to_regclass($1) AS t`, [table])
    expect(rows[0]!.t).toBeNull()
    // The connection is usable afterwards (not stuck in an aborted transaction).
    await runMigration(db, table, statements(table))
    const again = await db.query(`SELECT to_regclass($1)::text AS t`, [table])
    expect(again.rows[0]!.t).toBe(table)
  })
})

describe('quoteIdent', () => {
  it('quotes plain and schema-qualified names', () => {
    expect(quoteIdent('audit_logs')).toBe('"audit_logs"')
    expect(quoteIdent('ops.audit_logs')).toBe('"ops"."audit_logs"')
  })
  it('throws on anything that could break out of an identifier', () => {
    for (const bad of ['', 'a b', 'x;drop table y', '1abc', 'a"b', 'a.b.c', 'x'.repeat(64)]) {
      expect(() => quoteIdent(bad)).toThrow(/invalid SQL identifier/)
      expect(() => quoteIdent(bad)).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_STORE_INVALID_IDENT' }))
    }
    expect(() => quoteIdent(42 as never)).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_STORE_INVALID_IDENT' }))
  })
})

describe('openDatabase', () => {
  it('warns once and uses PGlite in memory when no connection is given', async () => {
    const warnings: string[] = []
    const logger = { ...silentLogger, warn: (msg: string) => warnings.push(msg) }
    const db = await openDatabase(undefined, { logger, pkg: '@opskit/thing' })
    expect(db.kind).toBe('pglite')
    expect(warnings).toEqual(['@opskit/thing: no connection given, using embedded PGlite in memory; events are lost on restart'])
    const { rows } = await db.query<{ id: string }>('SELECT gen_random_uuid()::text AS id')
    expect(rows[0]!.id).toHaveLength(36)
    await db.close()
  })

  it('refuses something that is not a connection with FST_OPSKIT_STORE_INVALID_CONNECTION naming the package', async () => {
    await expect(openDatabase(42 as never, { logger: silentLogger, pkg: '@acme/events' })).rejects.toMatchObject({
      code: 'FST_OPSKIT_STORE_INVALID_CONNECTION',
      message: expect.stringContaining('@acme/events: connection must be'),
    })
  })

  it('keeps embedded data on disk across reopen with { embedded: { dataDir } }', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = await mkdtemp(join(tmpdir(), 'opskit-store-'))
    try {
      const first = await openDatabase({ embedded: { dataDir: dir } }, { logger: silentLogger, pkg: 'test' })
      await first.query('CREATE TABLE kept (v text)')
      await first.query('INSERT INTO kept VALUES ($1)', ['still here'])
      await first.close()
      const second = await openDatabase({ embedded: { dataDir: dir } }, { logger: silentLogger, pkg: 'test' })
      const { rows } = await second.query<{ v: string }>('SELECT v FROM kept')
      expect(rows).toEqual([{ v: 'still here' }])
      await second.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it.skipIf(DATABASE_URL === undefined)('close() ends a pool it opened from a string but leaves a user pool open', async () => {
    const pg = (await import('pg')).default
    const owned = await openDatabase(DATABASE_URL!, { logger: silentLogger, pkg: 'test' })
    expect(owned.kind).toBe('postgres')
    await owned.query('SELECT 1')
    await owned.close()
    await expect(owned.query('SELECT 1')).rejects.toThrow()

    const pool = new pg.Pool({ connectionString: DATABASE_URL })
    const borrowed = await openDatabase(pool, { logger: silentLogger, pkg: 'test' })
    await borrowed.close()
    const { rows } = await pool.query('SELECT 1 AS one')
    expect(rows[0].one).toBe(1)
    await pool.end()
  })
})
