import type { Queryable } from './database.js'
import { RefusedError } from './errors.js'

/**
 * SQLSTATE classes that mean "this row can never be stored as it is", whatever the state of the
 * server: 22 data exception (bad value, out of range, invalid text), 23 integrity constraint
 * violation (CHECK, NOT NULL, foreign key), 54 program limit exceeded (`54000` index row size). A
 * batch failing with one of these is split until the bad row is alone; every other failure
 * (connection, timeout, 40 / 53 / 57 / 08 / 42 …) is retried.
 */
const DATA_CLASSES = new Set(['22', '23', '54'])

/** Marks an error a writer raised for a row's content (a value it cannot serialize, say). */
export const kDataError = Symbol.for('opskit.store.data-error')

/** True when `error` is a failure of the rows' content, not of the database's state. */
export function isDataError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  if ((error as { [kDataError]?: boolean })[kDataError] === true) return true
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && DATA_CLASSES.has(code.slice(0, 2))
}

/** Tags `error` (made by a writer while building a row's parameters) as a data error. */
export function asDataError<E>(error: E): E {
  if (typeof error === 'object' && error !== null) (error as { [kDataError]?: boolean })[kDataError] = true
  return error
}

/**
 * The table columns a PostgreSQL data error points at: its `column` when it has one (NOT NULL),
 * else the columns of the index or constraint it names (`54000` index row size, CHECK, UNIQUE),
 * looked up in the catalog. Empty when nothing can be told (PGlite, or the lookup failed).
 */
export async function refusedColumns(q: Queryable, error: unknown): Promise<string[]> {
  if (typeof error !== 'object' || error === null) return []
  const { column, constraint, schema } = error as { column?: string; constraint?: string; schema?: string }
  if (typeof column === 'string' && column.length > 0) return [column]
  if (typeof constraint !== 'string' || constraint.length === 0) return []
  try {
    const { rows } = await q.query(
      `SELECT a.attname AS name FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_index i ON i.indexrelid = c.oid
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE c.relname = $1 AND ($2::text IS NULL OR n.nspname = $2)
       UNION
       SELECT a.attname FROM pg_constraint k
         JOIN pg_namespace n ON n.oid = k.connamespace
         JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey)
        WHERE k.conname = $1 AND ($2::text IS NULL OR n.nspname = $2)`,
      [constraint, typeof schema === 'string' ? schema : null],
    )
    return [...new Set(rows.map((row: { name: string }) => row.name))]
  } catch {
    return []
  }
}

/** Builds the `RefusedError` for `error`, naming the columns it points at (one catalog query). */
export async function refusedError(
  q: Queryable,
  error: Error,
  opts: { pkg: string; what: string; redact?: (text: string) => string },
): Promise<RefusedError> {
  const columns = await refusedColumns(q, error)
  const reason = (opts.redact ?? ((text: string) => text))(error.message).slice(0, 300)
  return new RefusedError(opts.pkg, opts.what, (error as { code?: string }).code, reason, columns)
}
