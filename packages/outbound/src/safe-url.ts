import { isSecretKey, redactString, REDACTED } from '@opskit/core'

/** Longest `url` put on a line; the rest is cut (the query first, as it comes last). */
export const MAX_URL_LENGTH = 2048

// Control characters and whitespace never reach a line raw (CR/LF, tabs, NUL, DEL).
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0020\u007f]/g
// eslint-disable-next-line no-control-regex
const HAS_UNSAFE = /[\u0000-\u0020\u007f]/

function encodeUnsafe(value: string): string {
  if (!HAS_UNSAFE.test(value)) return value
  return value.replace(UNSAFE, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'))
}

function decode(value: string): string {
  if (value.indexOf('%') === -1 && value.indexOf('+') === -1) return value
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return value
  }
}

/** The query string with the value of every secret-looking key (and every value that is a secret by its shape) as `[REDACTED]`. */
function maskQuery(query: string): string {
  let out = ''
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=')
    const key = eq === -1 ? pair : pair.slice(0, eq)
    if (out.length > 0) out += '&'
    if (eq === -1) {
      out += key
      continue
    }
    const value = pair.slice(eq + 1)
    const decoded = decode(value)
    out += key + '=' + (isSecretKey(decode(key)) || redactString(decoded) !== decoded ? REDACTED : value)
  }
  return out
}

// Masked query strings by raw query: an app sends the same few (`?page=1`, `?expand=items`) again
// and again, and masking one is most of what a URL costs. Bounded; starts over when full.
const MAX_CACHED_QUERIES = 512
const MAX_CACHED_QUERY_LENGTH = 256
const maskedQueries = new Map<string, string>()

function maskedQuery(query: string): string {
  if (query.length > MAX_CACHED_QUERY_LENGTH) return encodeUnsafe(maskQuery(query))
  let masked = maskedQueries.get(query)
  if (masked === undefined) {
    masked = encodeUnsafe(maskQuery(query))
    if (maskedQueries.size >= MAX_CACHED_QUERIES) maskedQueries.clear()
    maskedQueries.set(query, masked)
  }
  return masked
}

/**
 * The URL of a call as a line shows it: `origin` + path, no userinfo, secret query values masked,
 * control characters percent-encoded, at most `MAX_URL_LENGTH` characters.
 */
export function safeUrl(origin: string, path: string): string {
  const at = origin.indexOf('@')
  let base = origin
  if (at !== -1) {
    const scheme = origin.indexOf('//')
    base = origin.slice(0, scheme + 2) + origin.slice(at + 1)
  }
  const raw = path.length > MAX_URL_LENGTH * 2 ? path.slice(0, MAX_URL_LENGTH * 2) : path
  const q = raw.indexOf('?')
  const hash = raw.indexOf('#')
  const pathname = q === -1 ? (hash === -1 ? raw : raw.slice(0, hash)) : raw.slice(0, q)
  let url = encodeUnsafe(base + pathname)
  if (q !== -1) {
    const query = hash > q ? raw.slice(q + 1, hash) : raw.slice(q + 1)
    url += '?' + maskedQuery(query)
  }
  return url.length > MAX_URL_LENGTH ? url.slice(0, MAX_URL_LENGTH) : url
}
