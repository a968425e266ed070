import { createHash } from 'node:crypto'
import { quoteIdent, type Queryable } from '@opskit/store'
import { canonicalFields } from './trigger-sql.js'

export interface VerifyOptions {
  /** Start at the first chained row created at or after this time (its `prev_hash` is taken as given). Default: the oldest row. */
  from?: Date | string
  /** A hash from an earlier `head()`: that row must still be in the chain (rows deleted from the tail are found). */
  anchor?: string
}

export interface VerifyResult {
  ok: boolean
  /** Chained rows checked. */
  checked: number
  /** The first row that breaks the chain (`id` null when the anchor is not found at all). */
  firstBad?: { id: string | null; reason: string }
}

const PAGE = 2000

/**
 * The canonical JSON of a row's 16 chained values (see `canonicalFields`): what PostgreSQL's
 * `json_build_array(...)::text` prints, elements separated by `, `.
 */
export function canonicalJson(fields: Array<string | null>): string {
  return `[${fields.map((f) => JSON.stringify(f)).join(', ')}]`
}

/** sha256 hex over `prev_hash` (empty for the first row) and the row's canonical JSON. */
export function chainHash(prevHash: string | null, fields: Array<string | null>): string {
  return createHash('sha256').update(`${prevHash ?? ''}${canonicalJson(fields)}`, 'utf8').digest('hex')
}

interface ChainRow { seq: string; id: string; prev_hash: string | null; hash: string | null; [field: `f${number}`]: string | null }

/**
 * Walks the chain in `chain_seq` order, recomputing each hash in JavaScript from the stored
 * columns, and reports the first row that is altered (its hash does not match its content), out of
 * place (its `prev_hash` is not the previous row's hash) or preceded by a gap (rows deleted).
 */
export async function verifyChain(q: Queryable, table: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const t = quoteIdent(table)
  const fields = canonicalFields('')
  const select = `SELECT chain_seq::text AS seq, id::text AS id, prev_hash, hash, ${fields.map((f, i) => `${f} AS f${i}`).join(', ')} FROM ${t}`
  let after = '0'
  if (opts.from !== undefined) {
    const from = opts.from instanceof Date ? opts.from.toISOString() : opts.from
    const { rows } = await q.query(`SELECT (min(chain_seq) - 1)::text AS seq FROM ${t} WHERE chain_seq IS NOT NULL AND created_at >= $1::timestamptz`, [from])
    if (rows[0]?.seq == null) return anchorResult(opts.anchor, false, 0)
    after = rows[0].seq as string
  }
  let checked = 0
  let previous: ChainRow | null = null
  let anchorSeen = false
  for (;;) {
    const { rows } = await q.query(`${select} WHERE chain_seq > $1::bigint ORDER BY chain_seq LIMIT ${PAGE}`, [after])
    for (const row of rows as ChainRow[]) {
      const bad = (reason: string): VerifyResult => ({ ok: false, checked, firstBad: { id: row.id, reason } })
      if (previous !== null) {
        const expected = BigInt(previous.seq) + 1n
        if (BigInt(row.seq) !== expected) return bad(`missing rows: chain_seq ${row.seq} follows ${previous.seq}`)
        if (row.prev_hash !== previous.hash) return bad(`prev_hash does not match the hash of the previous row ${previous.id} (altered or replaced)`)
      } else if (row.seq === '1' && row.prev_hash !== null) {
        return bad('the first row of the chain has a prev_hash')
      }
      const values = fields.map((_f, i) => row[`f${i}`] ?? null)
      if (chainHash(row.prev_hash, values) !== row.hash) return bad('altered: the row does not match its hash')
      checked++
      if (opts.anchor !== undefined && row.hash === opts.anchor) anchorSeen = true
      previous = row
    }
    if (rows.length < PAGE) break
    after = previous!.seq
  }
  return anchorResult(opts.anchor, anchorSeen, checked)
}

function anchorResult(anchor: string | undefined, seen: boolean, checked: number): VerifyResult {
  if (anchor === undefined || seen) return { ok: true, checked }
  return { ok: false, checked, firstBad: { id: null, reason: `anchor ${anchor} not found: rows at or before that head were deleted or rewritten` } }
}

/** The hash of the newest chained row, or null when the chain is empty. */
export async function chainHead(q: Queryable, table: string): Promise<string | null> {
  const { rows } = await q.query(`SELECT hash FROM ${quoteIdent(table)} WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1`)
  return (rows[0]?.hash as string | undefined) ?? null
}
