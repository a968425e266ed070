import { arrayLiteral, quoteIdent } from '@opskit/store'

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

/** Column types, in `COLUMNS` order, for the INSERT's `unnest($n::type[], …)`. */
const TYPES = ['uuid', 'text', 'text', 'text', 'text', 'inet', 'text', 'text', 'text', 'jsonb', 'timestamptz', 'text'] as const

/**
 * `INSERT ... SELECT * FROM unnest($1::uuid[], …) ON CONFLICT (id) DO NOTHING`, one array per
 * column: one short statement for every batch size (a multi-row VALUES with 12 parameters a row
 * cost PostgreSQL half again as much CPU per row, parsing and planning a new text per size). Ids
 * are made client-side, so a batch retried after an ambiguous failure never lands twice.
 */
export function insertStatement(table: string): string {
  const arrays = TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ')
  return `INSERT INTO ${quoteIdent(table)} (${COLUMNS.join(', ')}) SELECT * FROM unnest(${arrays}) ON CONFLICT (id) DO NOTHING`
}

/** The INSERT's parameters for `rows` (each a row's values in `COLUMNS` order): one array literal per column. */
export function insertParams(rows: readonly unknown[][]): string[] {
  const n = rows.length
  const params: string[] = new Array(COLUMNS.length)
  const column: unknown[] = new Array(n)
  for (let c = 0; c < COLUMNS.length; c++) {
    for (let i = 0; i < n; i++) column[i] = rows[i]![c]
    params[c] = arrayLiteral(column)
  }
  return params
}
