import { FST_OPSKIT_HEALTH_INVALID_OPTION } from '../errors.js'
import type { HealthCheck } from '../types.js'

/** Anything with pg's `query()`: a `pg.Pool`, a `pg.Client`, a PGlite instance. */
export interface Queryable {
  query(sql: string): Promise<unknown>
}

export interface PostgresCheckOptions {
  /** Default `true`. */
  critical?: boolean
  /** Overrides the plugin's `timeoutMs`. */
  timeoutMs?: number
}

/**
 * Runs `SELECT 1`. On a `pg.Pool` it also reports the pool's `total`, `idle` and `waiting`
 * client counts, the first thing to look at when the database is "slow".
 */
export function postgresCheck(poolOrClient: Queryable, options: PostgresCheckOptions = {}): HealthCheck {
  if (poolOrClient === null || typeof poolOrClient !== 'object' || typeof poolOrClient.query !== 'function') {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION('postgresCheck(poolOrClient)', 'expected a pg Pool or Client (anything with query())')
  }
  const pool = poolOrClient as { totalCount?: unknown; idleCount?: unknown; waitingCount?: unknown }
  return {
    ...options,
    async check() {
      await poolOrClient.query('SELECT 1')
      if (typeof pool.totalCount === 'number' && typeof pool.idleCount === 'number' && typeof pool.waitingCount === 'number') {
        return { pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } }
      }
      return undefined
    },
  }
}
