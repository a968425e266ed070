import { redactString } from '@opskit/core'
import { arrayLiteral, asDataError, PreparedStatement, quoteIdent, storableJson, storableText, type Database, type Queryable } from '@opskit/store'
import { eventSummary, updateSummary } from './changes-summary.js'
import { AUDIT_COLUMNS } from './schema.js'
import type { AuditRecord } from './types.js'

const COLUMN_COUNT = AUDIT_COLUMNS.length
const TYPES = ['uuid', 'text', 'text', 'text', 'text', 'text', 'text', 'jsonb', 'jsonb', 'text', 'inet', 'text', 'text', 'text', 'timestamptz', 'text']

/** Set by buildRecord: the event time in ms; `created_at` is formatted from it off the request path. */
export const kTime = Symbol('opskit.audit.time')
/** Set by buildRecord: what `changes_summary` is made of, formatted off the request path. */
export const kSummary = Symbol('opskit.audit.summary')
/** Set by finishRow: the jsonb text of old_values / new_values. */
const kJson = Symbol('opskit.audit.json')
/** Changed keys of an update, or the verb of an event without both sides. */
export type PendingSummary = { keys: string[] } | { verb: string }
type Row = AuditRecord & { [kTime]?: number; [kSummary]?: PendingSummary; [kJson]?: [string | null, string | null] }


/**
 * Completes a row before it is written: `created_at` (ISO) from the time recorded when it was
 * built, `changes_summary` from its (already redacted) values, and every value PostgreSQL would
 * refuse made storable (`storableText` / `storableJson` from @opskit/store). Idempotent.
 */
export function finishRow(row: Row): void {
  if (row.created_at === '') row.created_at = new Date(row[kTime] ?? Date.now()).toISOString()
  const pending = row[kSummary]
  if (pending === undefined) return
  row[kSummary] = undefined
  row.user_id = storableText(row.user_id)
  row.user_email = storableText(row.user_email)
  row.action = storableText(row.action)
  row.entity_type = storableText(row.entity_type)
  row.entity_id = storableText(row.entity_id)
  row.entity_name = storableText(row.entity_name)
  let oldJson: string | null = null
  let newJson: string | null = null
  if (row.old_values !== null) ({ text: oldJson, value: row.old_values } = storableJson(row.old_values))
  if (row.new_values !== null) ({ text: newJson, value: row.new_values } = storableJson(row.new_values))
  row[kJson] = [oldJson, newJson]
  row.changes_summary = storableText('keys' in pending
    ? updateSummary(pending.keys, row.old_values ?? {}, row.new_values ?? {})
    : eventSummary(pending.verb, row.entity_type, row.entity_id, row.entity_name === null ? null : redactString(row.entity_name)))
}

/** A row as a spool entry: its column values in `AUDIT_COLUMNS` order, JSON as text (what the INSERT sends). */
export function toSpoolEntry(row: Row): unknown[] {
  finishRow(row)
  const [oldJson, newJson] = row[kJson] ?? [row.old_values === null ? null : JSON.stringify(row.old_values), row.new_values === null ? null : JSON.stringify(row.new_values)]
  return [
    row.id, row.user_id, row.user_email, row.action, row.entity_type, row.entity_id, row.entity_name,
    oldJson, newJson, row.changes_summary, row.ip_address, row.user_agent, row.request_path, row.request_id, row.created_at,
    row.trace_id ?? null,
  ]
}

/** Entries written before `trace_id` existed hold the first 15 columns; they replay with no trace. */
const PRE_TRACE_COLUMN_COUNT = 15

/** The row a spool entry holds (null when the entry is not one: a file from something else). */
export function fromSpoolEntry(entry: unknown): AuditRecord | null {
  if (!Array.isArray(entry) || (entry.length !== COLUMN_COUNT && entry.length !== PRE_TRACE_COLUMN_COUNT) || typeof entry[0] !== 'string') return null
  const v = entry as Array<string | null>
  const row: Row = {
    id: v[0]!, user_id: v[1]!, user_email: v[2]!, action: v[3]!, entity_type: v[4]!, entity_id: v[5]!, entity_name: v[6]!,
    old_values: v[7] === null ? null : JSON.parse(v[7]!), new_values: v[8] === null ? null : JSON.parse(v[8]!),
    changes_summary: v[9] ?? '', ip_address: v[10]!, user_agent: v[11]!, request_path: v[12]!, request_id: v[13]!, created_at: v[14] ?? '',
    trace_id: v[15] ?? null,
  }
  row[kJson] = [v[7] ?? null, v[8] ?? null]
  return row
}

/**
 * One INSERT per batch, whatever its size: `INSERT ... SELECT * FROM unnest($1::uuid[], ...)` with
 * one array per column (15 parameters, one short statement for PostgreSQL to parse, the same SQL on
 * PGlite). `ON CONFLICT (id) DO NOTHING`: a batch retried after an ambiguous failure (connection
 * lost during COMMIT) never lands twice, because ids are made client-side.
 */
export class AuditInsert {
  readonly text: string
  readonly #prepared: PreparedStatement

  constructor(table: string) {
    const arrays = TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ')
    this.text = `INSERT INTO ${quoteIdent(table)} (${AUDIT_COLUMNS.join(', ')}) SELECT * FROM unnest(${arrays}) ON CONFLICT (id) DO NOTHING`
    this.#prepared = new PreparedStatement(this.text)
  }

  /** One PostgreSQL array literal per column (`arrayLiteral` of @opskit/store: cheaper than pg's JS-array escaping). */
  params(batch: Row[]): string[] {
    const n = batch.length
    const columns: unknown[][] = []
    for (let c = 0; c < COLUMN_COUNT; c++) columns.push(new Array(n))
    for (let i = 0; i < n; i++) {
      const row = batch[i]!
      finishRow(row)
      columns[0]![i] = row.id
      columns[1]![i] = row.user_id
      columns[2]![i] = row.user_email
      columns[3]![i] = row.action
      columns[4]![i] = row.entity_type
      columns[5]![i] = row.entity_id
      columns[6]![i] = row.entity_name
      const json = row[kJson] ?? [row.old_values === null ? null : JSON.stringify(row.old_values), row.new_values === null ? null : JSON.stringify(row.new_values)]
      columns[7]![i] = json[0]
      columns[8]![i] = json[1]
      columns[9]![i] = row.changes_summary
      columns[10]![i] = row.ip_address
      columns[11]![i] = row.user_agent
      columns[12]![i] = row.request_path
      columns[13]![i] = row.request_id
      columns[14]![i] = row.created_at
      columns[15]![i] = row.trace_id ?? null
    }
    const literals: string[] = new Array(COLUMN_COUNT)
    for (let c = 0; c < COLUMN_COUNT; c++) literals[c] = arrayLiteral(columns[c]!)
    return literals
  }

  /** Writes `batch` on the caller's client (transactional mode) or, prepared, on the trail's own database. */
  async write(q: Queryable | Database, batch: AuditRecord[]): Promise<void> {
    let params: string[]
    try {
      params = this.params(batch)
    } catch (err) {
      // A value that cannot be serialized (a BigInt, a throwing toJSON) is the row's fault: the
      // queue splits the batch and refuses that row alone rather than retrying it forever.
      throw asDataError(err)
    }
    if ('kind' in q && typeof q.withClient === 'function') await this.#prepared.run(q, params)
    else await q.query(this.text, params)
  }
}
