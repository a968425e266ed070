import { quoteIdent } from '@opskit/store'

/** Columns of the audit table, in INSERT order. */
export const AUDIT_COLUMNS = [
  'id', 'user_id', 'user_email', 'action', 'entity_type', 'entity_id', 'entity_name',
  'old_values', 'new_values', 'changes_summary', 'ip_address', 'user_agent', 'request_path',
  'request_id', 'created_at', 'trace_id',
] as const

/**
 * The idempotent DDL for an audit table (`CREATE ... IF NOT EXISTS`), for teams that run their own
 * migrations. The same SQL runs on PostgreSQL and PGlite.
 */
export function auditTableSql(table = 'audit_logs'): string[] {
  const t = quoteIdent(table)
  // Index names follow the table name (schema stripped: an index lives in its table's schema).
  const base = table.includes('.') ? table.slice(table.indexOf('.') + 1) : table
  const index = (suffix: string): string => quoteIdent(`${base}_${suffix}`.slice(0, 63))
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (
  id uuid PRIMARY KEY,
  user_id text NULL,
  user_email text,
  action text NOT NULL,
  entity_type text,
  entity_id text,
  entity_name text,
  old_values jsonb,
  new_values jsonb,
  changes_summary text,
  ip_address inet,
  user_agent text,
  request_path text,
  request_id text,
  created_at timestamptz NOT NULL DEFAULT now()
)`,
    `CREATE INDEX IF NOT EXISTS ${index('user_id_action_idx')} ON ${t} (user_id, action)`,
    `CREATE INDEX IF NOT EXISTS ${index('entity_idx')} ON ${t} (entity_type, entity_id)`,
    `CREATE INDEX IF NOT EXISTS ${index('created_at_idx')} ON ${t} (created_at DESC)`,
    // Second edition: the request's trace (an existing table gains the column, keeps its rows).
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS trace_id text NULL`,
  ]
}

/** The migration for the default table `audit_logs`, as one SQL script. */
export const AUDIT_MIGRATION_SQL = `${auditTableSql('audit_logs').join(';\n\n')};\n`
