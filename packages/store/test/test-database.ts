import pg from 'pg'
import { openDatabase, type Database } from '@opskit/store'

export const DATABASE_URL = process.env.DATABASE_URL
export const target = DATABASE_URL === undefined ? 'PGlite (DATABASE_URL unset)' : 'PostgreSQL (DATABASE_URL)'
if (DATABASE_URL === undefined) console.info('[@opskit/store tests] DATABASE_URL unset: running on PGlite; the pg.Pool ownership test is skipped')

export const silentLogger: any = {
  level: 'silent',
  fatal() {}, error() {}, warn() {}, info() {}, debug() {}, trace() {}, silent() {},
  child() { return silentLogger },
}

/** The real PostgreSQL when DATABASE_URL is set, else PGlite in memory. */
export function openTestDatabase(): Promise<Database> {
  return openDatabase(DATABASE_URL ?? { embedded: {} }, { logger: silentLogger, pkg: '@opskit/store test' })
}

export function newPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL })
  pool.on('error', () => undefined)
  return pool
}

export { uniqueTable } from '../../../test-utils/pg-database.js'

export async function createItemsTable(db: Database, table: string): Promise<void> {
  await db.query(`CREATE TABLE ${table} (id uuid PRIMARY KEY, seq int NOT NULL, label text, created_at timestamptz NOT NULL DEFAULT clock_timestamp())`)
}

export async function insertItems(db: Database, table: string, batch: Array<{ id: string; seq: number; label?: string }>): Promise<void> {
  const params: unknown[] = []
  const values = batch.map((item) => {
    params.push(item.id, item.seq, item.label ?? null)
    const n = params.length
    return `($${n - 2}, $${n - 1}, $${n})`
  })
  await db.query(`INSERT INTO ${table} (id, seq, label) VALUES ${values.join(', ')} ON CONFLICT (id) DO NOTHING`, params)
}
