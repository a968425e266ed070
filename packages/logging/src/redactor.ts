import { isSecretKey, REDACTED, redactNumber, redactStack, redactString } from '@opskit/core'
import { serializeError } from './error-serializer.js'

/** What the line formatter needs to know about one field name; computed once per key and cached. */
export interface KeyInfo {
  /** The key, JSON-encoded with its quotes. */
  readonly json: string
  /** The whole value is replaced by `"[REDACTED]"`. */
  readonly secret: boolean
  /** Remaining segments of extra redaction paths that start at this key. */
  readonly paths: readonly (readonly string[])[] | undefined
  /** A string value longer than this is cut to it (`path`, `url`: `MAX_PATH_LENGTH`). */
  readonly maxLength: number | undefined
}

/** `path` and `url` fields (the `request completed` line's included) are cut to this many characters. */
export const MAX_PATH_LENGTH = 2048
const CAPPED_KEYS: Record<string, number | undefined> = Object.assign(Object.create(null) as Record<string, number>, {
  path: MAX_PATH_LENGTH,
  url: MAX_PATH_LENGTH,
})

/** `value` cut to `MAX_PATH_LENGTH` characters (a 10 KB path on a 414 is not logged whole). */
export function capPath(value: string): string {
  return value.length > MAX_PATH_LENGTH ? value.slice(0, MAX_PATH_LENGTH) : value
}

/** A number as its JSON text; a card number given as a number becomes its masked string. */
export function numberJson(value: number): string {
  if (!Number.isFinite(value)) return 'null'
  if (value < 2e12) return '' + value
  const masked = redactNumber(value)
  return typeof masked === 'string' ? '"' + masked + '"' : '' + value
}

const KEY_CACHE_LIMIT = 10_000
const MAX_DEPTH = 12
const PATH_TOKEN = /([^.[\]]+)|\[\s*(?:"([^"]*)"|'([^']*)'|(\*)|(\d+))\s*\]/g

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '')
}

/** `a.b["x-y"].*` → `['a', 'b', 'x-y', '*']`. */
export function parsePath(path: string): string[] {
  const segments: string[] = []
  for (const match of path.matchAll(PATH_TOKEN)) {
    const segment = match[1] ?? match[2] ?? match[3] ?? match[4] ?? match[5]
    if (segment !== undefined) segments.push(segment.trim())
  }
  return segments
}

/**
 * Masks e-mail addresses, card numbers and inline credentials (`Bearer …`, `token=…`); short strings
 * that cannot hold any of them (no `@`, space, `=` or `:`) are returned as is.
 */
export function maskString(value: string): string {
  if (value.length < 13 && value.indexOf('@') === -1 && value.indexOf(' ') === -1 && value.indexOf('=') === -1 && value.indexOf(':') === -1) {
    return value
  }
  return redactString(value)
}

/**
 * Redaction for one logger: core's secret key set (`isSecretKey`), extra names and paths from the
 * `redact` option, e-mail addresses and card numbers inside strings. Key decisions are cached, so
 * the common line (a handful of primitive fields) costs a map lookup per field.
 */
export class Redactor {
  private readonly extraKeys: Set<string>
  private readonly rules: string[][]
  private readonly cache = new Map<string, KeyInfo>()

  constructor(paths: readonly string[]) {
    this.extraKeys = new Set()
    this.rules = []
    for (const path of paths) {
      const segments = parsePath(path)
      if (segments.length === 1 && segments[0] !== '*') this.extraKeys.add(normalizeKey(segments[0] as string))
      else if (segments.length > 0) this.rules.push(segments)
    }
  }

  /** True when a value under this key is replaced by `"[REDACTED]"` wherever it appears. */
  isSecret(key: string): boolean {
    return isSecretKey(key) || (this.extraKeys.size !== 0 && this.extraKeys.has(normalizeKey(key)))
  }

  /** Cached facts about a top-level field name. */
  key(key: string): KeyInfo {
    let info = this.cache.get(key)
    if (info !== undefined) return info
    let secret = this.isSecret(key)
    let paths: string[][] | undefined
    for (const rule of this.rules) {
      if (rule[0] !== key && rule[0] !== '*') continue
      if (rule.length === 1) secret = true
      else (paths ??= []).push(rule.slice(1))
    }
    info = { json: JSON.stringify(key.indexOf('@') === -1 ? key : maskString(key)), secret, paths, maxLength: CAPPED_KEYS[key] }
    if (this.cache.size < KEY_CACHE_LIMIT) this.cache.set(key, info)
    return info
  }

  /** A redacted deep copy of `value` (strings masked, secret keys replaced, cycles cut), then `paths` applied. */
  value(value: unknown, paths?: readonly (readonly string[])[]): unknown {
    const copy = this.copy(value, 0, new WeakSet())
    if (paths !== undefined && copy !== null && typeof copy === 'object') {
      for (const path of paths) applyPath(copy as Record<string, unknown>, path, 0)
    }
    return copy
  }

  private copy(value: unknown, depth: number, seen: WeakSet<object>): unknown {
    switch (typeof value) {
      case 'string':
        return maskString(value)
      case 'number':
        return value >= 2e12 ? redactNumber(value) : value
      case 'bigint':
        return String(redactNumber(value))
      case 'object':
        break
      default:
        return value
    }
    if (value === null) return null
    let input = value as object
    if (input instanceof Error) input = serializeError(input) as object
    else if (typeof (input as { toJSON?: unknown }).toJSON === 'function' && !Buffer.isBuffer(input)) {
      const json = (input as { toJSON(): unknown }).toJSON()
      if (json === null || typeof json !== 'object') return this.copy(json, depth, seen)
      input = json
    }
    if (seen.has(input)) return '[Circular]'
    if (depth >= MAX_DEPTH) return '[Object]'
    seen.add(input)
    let out: unknown
    if (Array.isArray(input)) {
      out = input.map((item) => this.copy(item, depth + 1, seen))
    } else if (input instanceof Map) {
      const copy: Record<string, unknown> = {}
      for (const [k, v] of input) {
        const key = String(k)
        copy[key.indexOf('@') === -1 ? key : maskString(key)] = this.isSecret(key) ? REDACTED : this.copy(v, depth + 1, seen)
      }
      out = copy
    } else {
      const copy: Record<string, unknown> = {}
      const record = input as Record<string, unknown>
      for (const key of Object.keys(input)) {
        const v = record[key]
        // A key can hold personal data too (`{ [email]: count }`): masked like a string value.
        copy[key.indexOf('@') === -1 ? key : maskString(key)] = v !== undefined && v !== null && this.isSecret(key) ? REDACTED : this.copy(v, depth + 1, seen)
      }
      // A serialized error (ours or pino's `err` serializer): its stack repeats the messages, masked as they are.
      if (typeof record.stack === 'string' && copy.stack !== REDACTED) copy.stack = redactStack(record.stack)
      out = copy
    }
    seen.delete(input)
    return out
  }
}

function applyPath(target: Record<string, unknown>, path: readonly string[], index: number): void {
  const segment = path[index] as string
  const last = index === path.length - 1
  const keys = segment === '*' ? Object.keys(target) : Object.prototype.hasOwnProperty.call(target, segment) ? [segment] : []
  for (const key of keys) {
    if (last) {
      if (target[key] !== undefined) target[key] = REDACTED
      continue
    }
    const child = target[key]
    if (child !== null && typeof child === 'object') applyPath(child as Record<string, unknown>, path, index + 1)
  }
}
