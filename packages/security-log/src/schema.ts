import { quoteIdent } from '@opskit/store'

/** Default table name. */
export const DEFAULT_TABLE = 'security_logs'

/** Column order used by every INSERT. */
export const COLUMNS = [
  'id',
  'action',
  'severity',
  'user_id',
  'user_email',
  'ip_address',
  'user_agent',
  'request_path',
  'request_id',
  'details',
  'created_at',
  'trace_id',
] as const

/**
 * The idempotent DDL for the security log table and its indexes (`CREATE ... IF NOT EXISTS`), as
 * `runMigration` takes it. Run it yourself when the plugin's `migrate` option is `false`.
 */
export function securityLogMigration(table: string = DEFAULT_TABLE): string[] {
  const qualified = quoteIdent(table)
  const base = table.includes('.') ? table.slice(table.indexOf('.') + 1) : table
  const index = (suffix: string): string => quoteIdent(`${base}_${suffix}`.slice(0, 63))
  return [
    `CREATE TABLE IF NOT EXISTS ${qualified} (
  id uuid PRIMARY KEY,
  action text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  user_id text NULL,
  user_email text NULL,
  ip_address inet NULL,
  user_agent text NULL,
  request_path text NULL,
  request_id text NULL,
  details jsonb NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`,
    `CREATE INDEX IF NOT EXISTS ${index('action_created_at_idx')} ON ${qualified} (action, created_at DESC)`,
    `CREATE INDEX IF NOT EXISTS ${index('ip_address_idx')} ON ${qualified} (ip_address)`,
    `CREATE INDEX IF NOT EXISTS ${index('user_id_idx')} ON ${qualified} (user_id)`,
    `CREATE INDEX IF NOT EXISTS ${index('created_at_idx')} ON ${qualified} (created_at DESC)`,
    // Second edition: the request's trace (an existing table gains the column, keeps its rows).
    `ALTER TABLE ${qualified} ADD COLUMN IF NOT EXISTS trace_id text NULL`,
  ]
}

/**
 * `INSERT ... VALUES (...), (...) ON CONFLICT (id) DO NOTHING` for `rows` rows: ids are made
 * client-side, so a batch retried after an ambiguous failure never lands twice.
 */
export function insertStatement(table: string, rows: number): string {
  const width = COLUMNS.length
  const groups: string[] = new Array(rows)
  for (let r = 0; r < rows; r++) {
    const o = r * width
    groups[r] = `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}, $${o + 6}::inet, $${o + 7}, $${o + 8}, $${o + 9}, $${o + 10}::jsonb, $${o + 11}::timestamptz, $${o + 12})`
  }
  return `INSERT INTO ${quoteIdent(table)} (${COLUMNS.join(', ')}) VALUES ${groups.join(', ')} ON CONFLICT (id) DO NOTHING`
}
