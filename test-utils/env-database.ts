import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** `DATABASE_URL` when set (a real PostgreSQL the plugins connect to), else `undefined` (they use embedded PGlite). */
export const DATABASE_URL: string | undefined = process.env.DATABASE_URL

/** `'PostgreSQL'` or `'PGlite'`, for test titles that say which database ran. */
export const DATABASE_KIND = DATABASE_URL === undefined ? 'PGlite' : 'PostgreSQL'

export interface TestTables {
  /** A fresh table name, `<base>_<10 hex>`, so parallel runs on one PostgreSQL never share rows. */
  name(): string
  /** Drops every table `name()` gave on the real PostgreSQL (PGlite in memory disappears by itself). */
  drop(): Promise<void>
}

export function testTables(base: string): TestTables {
  const names: string[] = []
  return {
    name() {
      const table = `${base}_${randomBytes(5).toString('hex')}`
      names.push(table)
      return table
    },
    async drop() {
      if (DATABASE_URL === undefined || names.length === 0) return
      const pool = new pg.Pool({ connectionString: DATABASE_URL })
      try {
        for (const table of names.splice(0)) await pool.query(`DROP TABLE IF EXISTS "${table}"`)
      } finally {
        await pool.end()
      }
    },
  }
}
