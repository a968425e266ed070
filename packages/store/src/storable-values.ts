import { isIP } from 'node:net'

/**
 * Values PostgreSQL refuses for reasons of content, not of state: a NUL character in `text`,
 * `\u0000` or a lone UTF-16 surrogate in `jsonb`, an IPv6 zone in `inet`. One such value fails its
 * whole multi-row INSERT on every retry, so it would hold every other row of its batch hostage
 * until the queue's close deadline. NUL and lone surrogates become U+FFFD (the row keeps a visible
 * mark of them). The common case costs one `includes()` / one regex test per value.
 */

const REPLACEMENT = '\uFFFD'
const NUL = /\0/g
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
// In JSON text: a \u0000 or \uD800–\uDFFF escape (an escaped backslash before "u" is a rare false
// positive, which only costs the slow path).
const SUSPECT_ESCAPE = /\\u(?:0000|d[89a-f])/i

/** `text` without NUL characters (for a `text` column). */
export function storableText(text: string): string
export function storableText(text: string | null): string | null
export function storableText(text: string | null): string | null {
  return text === null || !text.includes('\0') ? text : text.replace(NUL, REPLACEMENT)
}

function safeString(text: string): string {
  return text.replace(NUL, REPLACEMENT).replace(LONE_SURROGATE, REPLACEMENT)
}

function clean(value: unknown): unknown {
  if (typeof value === 'string') return safeString(value)
  if (typeof value !== 'object' || value === null) return value
  const json = (value as { toJSON?: unknown }).toJSON
  if (typeof json === 'function') return clean((value as { toJSON(): unknown }).toJSON())
  if (Array.isArray(value)) return value.map(clean)
  // Object.fromEntries keeps a `__proto__` key as data (an assignment would set the prototype).
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [safeString(key), clean(v)]))
}

/**
 * How deep a stored `jsonb` value may nest. PGlite fails on jsonb nested ~1500 deep (a 3 KB request
 * body can be) with "memory access out of bounds" and stays broken, so every later row is lost.
 */
export const MAX_JSON_DEPTH = 64

/** True when `value` holds objects or arrays nested more than `levels` deep. */
export function deeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (levels === 0) return true
  for (const item of Array.isArray(value) ? value : Object.values(value)) if (deeperThan(item, levels - 1)) return true
  return false
}

/**
 * The `jsonb` text of `value`, and the value as stored when it had to be cleaned (else `value`
 * itself), so the record a caller gets back matches the row. A value nested deeper than
 * `MAX_JSON_DEPTH` is stored as `{ truncated: true, depth_limit }`.
 */
export function storableJson(value: Record<string, unknown>): { text: string; value: Record<string, unknown> } {
  if (deeperThan(value, MAX_JSON_DEPTH)) {
    const marker = { truncated: true, depth_limit: MAX_JSON_DEPTH }
    return { text: JSON.stringify(marker), value: marker }
  }
  const text = JSON.stringify(value)
  if (!SUSPECT_ESCAPE.test(text)) return { text, value }
  const cleaned = JSON.parse(JSON.stringify(clean(value))) as Record<string, unknown>
  return { text: JSON.stringify(cleaned), value: cleaned }
}

/**
 * An address `inet` accepts, or null. `isIP()` accepts an IPv6 zone (`fe80::1%eth0`) that `inet`
 * refuses: the zone is dropped.
 */
export function storableIp(value: string | null | undefined): string | null {
  if (value == null) return null
  const zone = value.indexOf('%')
  const ip = zone === -1 ? value : value.slice(0, zone)
  return isIP(ip) === 0 ? null : ip
}
