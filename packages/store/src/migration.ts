import type { Database } from './database.js'
import { MigrationFailedError } from './errors.js'

/**
 * Runs `statements` in one transaction that first takes `pg_advisory_xact_lock(hashtext(lockName))`,
 * so two instances starting at once never race on `CREATE ... IF NOT EXISTS`. Statements must be
 * idempotent; the lock is released by COMMIT / ROLLBACK. A failure (of a statement, or of the
 * connection) rejects `MigrationFailedError` (`FST_OPSKIT_STORE_MIGRATION_FAILED`) naming `lockName`,
 * with the database's error as `cause`.
 */
export async function runMigration(db: Database, lockName: string, statements: string[]): Promise<void> {
  try {
    await db.withClient(async (q) => {
      await q.query('BEGIN')
      try {
        await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockName])
        for (const statement of statements) await q.query(statement)
        await q.query('COMMIT')
      } catch (err) {
        await q.query('ROLLBACK').catch(() => undefined)
        throw err
      }
    })
  } catch (err) {
    throw new MigrationFailedError(lockName, (err as Error).message, { cause: err })
  }
}
