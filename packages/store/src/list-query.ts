import { isIP } from 'node:net'
import type { Database } from './database.js'
import { InvalidQueryError } from './errors.js'
import { quoteIdent } from './quote-ident.js'

/** How a query parameter filters: equality on text, a lower / upper bound on a timestamp, an IP. */
export type FilterKind = 'text' | 'date-from' | 'date-to' | 'ip'

export interface ListSpec {
  /** Query parameter name → the column it filters and how. */
  filters: Record<string, { column: string; kind: FilterKind }>
}

export interface ParsedFilter {
  param: string
  column: string
  kind: FilterKind
  value: string
  /** `date-to` given as a plain day: `value` is the next midnight, compared with `<`. */
  exclusive?: true
}

export interface ParsedList {
  limit: number
  skip: number
  filters: ParsedFilter[]
}

export interface ListResult<R = Record<string, unknown>> {
  items: R[]
  limit: number
  skip: number
  total: number
}

export const DEFAULT_LIMIT = 50
export const MAX_LIMIT = 100
/** Longest text filter value. */
export const MAX_TEXT_LENGTH = 512
const INTEGER = /^\d{1,9}$/
/** Largest `skip` (what nine digits hold). */
export const MAX_SKIP = 999_999_999
/**
 * The date and time forms a `from` / `to` filter takes, as a JSON Schema `pattern` (so the list
 * routes' schema and `parseListQuery()` accept the same texts): 2024-05-01, 2024-05-01T10:00,
 * 2024-05-01T10:00:00.123Z, 2024-05-01T10:00:00+02:00.
 */
export const ISO_DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}(?:[Tt ]\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d{1,9})?)?(?:[Zz]|[+-]\\d{2}(?::?\\d{2})?)?)?$'
const ISO_DATE = new RegExp(ISO_DATE_PATTERN, 'u')

const PLAIN_DAY = /^\d{4}-\d{2}-\d{2}$/
const HAS_ZONE = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i
const HOUR_ONLY_ZONE = /[+-]\d{2}$/
const DAY_MS = 86_400_000
/**
 * The instant an ISO_DATE-shaped text names, in ms. A time without an offset is UTC, like a plain
 * day (`Date.parse` would read it in the server's time zone); `+02` is read as `+02:00`.
 */
function parseInstant(text: string): number {
  if (PLAIN_DAY.test(text)) return Date.parse(text)
  let iso = text.replace(' ', 'T')
  if (!HAS_ZONE.test(iso)) iso += 'Z'
  else if (HOUR_ONLY_ZONE.test(iso)) iso += ':00'
  return Date.parse(iso)
}

/** `Date.parse` rolls 2024-02-30 over to March 1st: the day must exist in its month. */
function isRealDay(text: string): boolean {
  const year = Number(text.slice(0, 4))
  const month = Number(text.slice(5, 7))
  const day = Number(text.slice(8, 10))
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate()
}

function single(param: string, value: unknown): string {
  if (Array.isArray(value)) throw new InvalidQueryError(param, 'given more than once')
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value !== 'string') throw new InvalidQueryError(param, 'expected a string')
  return value
}

function parseInteger(param: string, raw: unknown, min: number, max: number, expected: string): number {
  const text = single(param, raw)
  if (!INTEGER.test(text)) throw new InvalidQueryError(param, expected)
  const n = Number(text)
  if (n < min || n > max) throw new InvalidQueryError(param, expected)
  return n
}

/**
 * Validates a list query: known filters only, `limit` an integer 1–100 (default 50), `skip` an
 * integer from 0 to 999999999 (default 0), ISO-8601 dates of days that exist, `from` not after
 * `to`, valid IPs. Throws `InvalidQueryError` (statusCode 400) naming the bad parameter. For
 * callers without the route's schema (`fastify.audit.query(filters)`); the list routes validate
 * with `listQuerySchema()` and finish with `parseValidatedListQuery()`.
 */
export function parseListQuery(query: unknown, spec: ListSpec): ParsedList {
  if (query === undefined || query === null) return { limit: DEFAULT_LIMIT, skip: 0, filters: [] }
  if (typeof query !== 'object') throw new InvalidQueryError('query', 'expected an object of parameters')
  return readQuery(query as Record<string, unknown>, spec, false)
}

/**
 * What JSON Schema cannot say, for a query that passed `listQuerySchema(spec)` (limit and skip
 * already numbers, every parameter known and one string of the right shape): the day exists in
 * its month, the IP address is one, `from` is not after `to`; then the instants in UTC.
 */
export function parseValidatedListQuery(query: Record<string, unknown>, spec: ListSpec): ParsedList {
  return readQuery(query, spec, true)
}

function readQuery(query: Record<string, unknown>, spec: ListSpec, validated: boolean): ParsedList {
  const parsed: ParsedList = { limit: DEFAULT_LIMIT, skip: 0, filters: [] }
  // Per column: the latest lower bound and the earliest upper bound, to refuse an empty range.
  let bounds: Map<string, { from?: [string, number]; to?: [string, number, boolean] }> | undefined
  for (const param of Object.keys(query)) {
    const raw = query[param]
    if (raw === undefined) continue
    if (param === 'limit') {
      parsed.limit = validated ? (raw as number) : parseInteger(param, raw, 1, MAX_LIMIT, `expected an integer from 1 to ${MAX_LIMIT}`)
      continue
    }
    if (param === 'skip') {
      parsed.skip = validated ? (raw as number) : parseInteger(param, raw, 0, MAX_SKIP, `expected an integer from 0 to ${MAX_SKIP}`)
      continue
    }
    const filter = Object.hasOwn(spec.filters, param) ? spec.filters[param] : undefined
    if (filter === undefined) {
      const known = ['limit', 'skip', ...Object.keys(spec.filters)].join(', ')
      throw new InvalidQueryError(param, `unknown parameter (known: ${known})`)
    }
    const text = validated ? (raw as string) : single(param, raw)
    let value = text
    switch (filter.kind) {
      case 'text':
        if (validated) break
        if (text.length === 0 || text.length > MAX_TEXT_LENGTH) {
          throw new InvalidQueryError(param, `expected 1 to ${MAX_TEXT_LENGTH} characters`)
        }
        // PostgreSQL refuses a NUL in text (the query would fail with a 500): no row can hold one.
        if (text.includes('\0')) throw new InvalidQueryError(param, 'must not contain a NUL character')
        break
      case 'date-from':
      case 'date-to': {
        const time = (validated || ISO_DATE.test(text)) && isRealDay(text) ? parseInstant(text) : Number.NaN
        if (Number.isNaN(time)) throw new InvalidQueryError(param, 'expected an ISO-8601 date such as 2024-05-01 or 2024-05-01T10:00:00Z')
        bounds ??= new Map()
        const range = bounds.get(filter.column) ?? {}
        bounds.set(filter.column, range)
        if (filter.kind === 'date-from') {
          if (range.from === undefined || time > range.from[1]) range.from = [param, time]
        } else if (PLAIN_DAY.test(text)) {
          // `to=2024-05-01` is the whole of that day (UTC): up to, not including, the next midnight.
          const end = time + DAY_MS
          if (range.to === undefined || end <= range.to[1]) range.to = [param, end, true]
          parsed.filters.push({ param, column: filter.column, kind: filter.kind, value: new Date(end).toISOString(), exclusive: true })
          continue
        } else if (range.to === undefined || time < range.to[1]) {
          range.to = [param, time, false]
        }
        value = new Date(time).toISOString()
        break
      }
      case 'ip':
        // isIP() accepts an IPv6 zone (`fe80::1%eth0`) that inet refuses; stored addresses never have one.
        if (isIP(text) === 0 || text.includes('%')) throw new InvalidQueryError(param, 'expected an IPv4 or IPv6 address')
        break
    }
    parsed.filters.push({ param, column: filter.column, kind: filter.kind, value })
  }
  if (bounds !== undefined) {
    for (const { from, to } of bounds.values()) {
      if (from === undefined || to === undefined) continue
      // An exclusive end (a plain day) must lie after the start; an inclusive one may equal it.
      if (to[2] ? from[1] >= to[1] : from[1] > to[1]) throw new InvalidQueryError(from[0], `must not be after "${to[0]}"`)
    }
  }
  return parsed
}

/** Turns a row into JSON-friendly values: timestamps as ISO strings, everything else as is. */
export function toJsonRow(row: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(row)) {
    const value = row[key]
    if (value instanceof Date) row[key] = value.toISOString()
    else if (typeof value === 'bigint') row[key] = value.toString()
  }
  return row
}

/**
 * One page of `table`, newest first (`created_at desc, id desc`), with `count(*)` as `total`.
 * Only parameterized SQL; column names come from the spec and are quoted.
 */
export async function listRows<R = Record<string, unknown>>(db: Database, table: string, parsed: ParsedList): Promise<ListResult<R>> {
  const where: string[] = []
  const params: unknown[] = []
  for (const filter of parsed.filters) {
    params.push(filter.value)
    const column = quoteIdent(filter.column)
    const p = `$${params.length}`
    switch (filter.kind) {
      case 'text': where.push(`${column} = ${p}`); break
      case 'date-from': where.push(`${column} >= ${p}::timestamptz`); break
      case 'date-to': where.push(`${column} ${filter.exclusive === true ? '<' : '<='} ${p}::timestamptz`); break
      case 'ip': where.push(`${column} = ${p}::inet`); break
    }
  }
  const target = quoteIdent(table)
  const clause = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`
  const n = params.length
  const [page, count] = await Promise.all([
    db.query(
      `SELECT * FROM ${target}${clause} ORDER BY created_at DESC, id DESC LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...params, parsed.limit, parsed.skip],
    ),
    db.query<{ total: number }>(`SELECT count(*)::int AS total FROM ${target}${clause}`, params),
  ])
  return {
    items: page.rows.map(toJsonRow) as R[],
    limit: parsed.limit,
    skip: parsed.skip,
    total: Number(count.rows[0]?.total ?? 0),
  }
}
