import { quoteIdent, type Queryable } from '@opskit/store'
import { AUDIT_COLUMNS } from './schema.js'
import type { AuditRecord } from './types.js'

const COLUMN_COUNT = AUDIT_COLUMNS.length
const CASTS: Record<string, string> = { id: '::uuid', old_values: '::jsonb', new_values: '::jsonb', ip_address: '::inet', created_at: '::timestamptz' }

function json(value: Record<string, unknown> | null): string | null {
  return value === null ? null : JSON.stringify(value)
}

/**
 * Multi-row INSERTs for one table. `ON CONFLICT (id) DO NOTHING`: a batch retried after an
 * ambiguous failure (connection lost during COMMIT) never lands twice, because ids are made
 * client-side. Statement text is cached per batch size.
 */
export class AuditInsert {
  readonly #head: string
  readonly #texts = new Map<number, string>()

  constructor(table: string) {
    this.#head = `INSERT INTO ${quoteIdent(table)} (${AUDIT_COLUMNS.join(', ')}) VALUES `
  }

  text(rows: number): string {
    let text = this.#texts.get(rows)
    if (text !== undefined) return text
    const tuples: string[] = new Array(rows)
    for (let r = 0; r < rows; r++) {
      const cells: string[] = new Array(COLUMN_COUNT)
      for (let c = 0; c < COLUMN_COUNT; c++) cells[c] = `$${r * COLUMN_COUNT + c + 1}${CASTS[AUDIT_COLUMNS[c]!] ?? ''}`
      tuples[r] = `(${cells.join(', ')})`
    }
    text = `${this.#head}${tuples.join(', ')} ON CONFLICT (id) DO NOTHING`
    if (this.#texts.size < 64) this.#texts.set(rows, text)
    return text
  }

  params(batch: AuditRecord[]): unknown[] {
    const params: unknown[] = new Array(batch.length * COLUMN_COUNT)
    let i = 0
    for (const row of batch) {
      params[i++] = row.id
      params[i++] = row.user_id
      params[i++] = row.user_email
      params[i++] = row.action
      params[i++] = row.entity_type
      params[i++] = row.entity_id
      params[i++] = row.entity_name
      params[i++] = json(row.old_values)
      params[i++] = json(row.new_values)
      params[i++] = row.changes_summary
      params[i++] = row.ip_address
      params[i++] = row.user_agent
      params[i++] = row.request_path
      params[i++] = row.request_id
      params[i++] = row.created_at
    }
    return params
  }

  async write(q: Queryable, batch: AuditRecord[]): Promise<void> {
    await q.query(this.text(batch.length), this.params(batch))
  }
}
