/**
 * The columns of an auditable record, to paste inside `CREATE TABLE t (..., <here>)`. With
 * `fastify.audit.track('t')` the triggers keep them true whatever SQL writes the row.
 */
export const auditableColumnsSql =
  'date_added timestamptz not null default now(), date_updated timestamptz not null default now(), added_by text, updated_by text, deleted_at timestamptz'

/** The stamp columns the triggers maintain (left out of update diffs: the audit row says who and when). */
export const STAMP_COLUMNS = ['date_added', 'date_updated', 'added_by', 'updated_by'] as const
