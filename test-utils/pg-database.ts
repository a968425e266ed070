import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll } from 'vitest'

/** What a test database needs for `useTestDatabase()`: a query (to drop its tables) and a close. */
interface Closable {
  query(text: string): Promise<unknown>
  close(): Promise<void>
}

/** `<base>_<10 hex>`: a table name no other test run uses. */
export function uniqueTable(base: string): string {
  return `${base}_${randomBytes(5).toString('hex')}`
}

/**
 * A test file's (or describe's) database: `open()` runs in `beforeAll`; the tables named by
 * `newTable()` are dropped and the database closed in `afterAll`. `db` can be captured at once
 * (before `beforeAll` ran): it forwards every property to the opened database.
 */
export function useTestDatabase<D extends Closable>(open: () => Promise<D>): { db: D; newTable(base: string): string } {
  let opened: D | undefined
  const tables: string[] = []
  const current = (): D => {
    if (opened === undefined) throw new Error('useTestDatabase(): the database is opened in beforeAll')
    return opened
  }
  beforeAll(async () => {
    opened = await open()
  })
  afterAll(async () => {
    if (opened === undefined) return
    for (const table of tables) await opened.query(`DROP TABLE IF EXISTS ${table}`)
    await opened.close()
  })
  const db = new Proxy({} as D, {
    get(_target, key) {
      const target = current()
      const value = Reflect.get(target, key, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return {
    db,
    newTable(base) {
      const table = uniqueTable(base)
      tables.push(table)
      return table
    },
  }
}
