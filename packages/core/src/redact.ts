export const REDACTED = '[REDACTED]'

// Keys are compared lower-cased with `-` and `_` removed; a key containing any of these is secret.
const SECRET_KEY_PARTS = ['password', 'passwd', 'secret', 'token', 'authorization', 'cookie', 'apikey', 'creditcard', 'cvv']

const keyCache = new Map<string, boolean>()
const KEY_CACHE_LIMIT = 10_000

/** True when a property name names a secret (`password`, `accessToken`, `x-api-key`, `Set-Cookie`...). */
export function isSecretKey(key: string): boolean {
  const cached = keyCache.get(key)
  if (cached !== undefined) return cached
  const normalized = key.toLowerCase().replace(/[-_]/g, '')
  let secret = false
  for (const part of SECRET_KEY_PARTS) {
    if (normalized.includes(part)) {
      secret = true
      break
    }
  }
  if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(key, secret)
  return secret
}

// `*` is part of the local part so that masking an already masked address changes nothing.
const EMAIL = /([A-Za-z0-9._%+*-]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g
const ALREADY_MASKED = /^[^*]?\*\*\*[^*]?$/
const CARD_CANDIDATE = /\b\d(?:[ -]?\d){12,18}\b/g
// Credentials written inline in a string: `Bearer <token>` / `Basic <base64>` under any key name
// or in a message, and `name=value`, `name: value`, `"name":"value"` where name is a secret key
// (query strings, formatted objects, upstream error messages). Checked only when the cheap hint matches.
const INLINE_SECRET_HINT = /bearer|basic|passw|secret|token|authoriz|cookie|api[-_]?key|credit[-_]?card|cvv/i
const SCHEME_CREDENTIAL = /\b(Bearer|bearer|BEARER)(\s+)(?!\[REDACTED\])[A-Za-z0-9._~+/=-]+/g
// `Basic` followed by something that looks like base64 (a digit, an upper-case letter or +/=), not "Basic plan".
const BASIC_CREDENTIAL = /\b(Basic|BASIC)(\s+)(?=[A-Za-z0-9+/]{1,}[0-9A-Z+/=])[A-Za-z0-9+/]{8,}={0,2}/g
// Linear on hostile input (a 16 KB URL path): a name starts only at a token boundary and is at
// most 128 characters; the value is matched separately, sticky, and only after a secret name.
const SECRET_NAME = /passw(?:or)?d|secret|token|authorization|cookie|api[-_]?key|credit[-_]?card|cvv/i
const NAME_AND_SEPARATOR = /(["']?)(?<![A-Za-z0-9_-])([A-Za-z0-9_-]{1,128})\1\s{0,8}[=:]\s{0,8}/g
const SECRET_VALUE = /(?:Bearer|Basic)\s{1,8}\S{1,4096}|"(?!\[REDACTED\]")[^"]{0,1024}"|'(?!\[REDACTED\]')[^']{0,1024}'|(?!\[REDACTED\])[^\s&,;"'}\]]+/iy

/** `user@example.com` → `u***r@example.com`. Masks every address inside a longer string too; idempotent. */
export function maskEmail(value: string): string {
  if (value.indexOf('@') === -1) return value
  return value.replace(EMAIL, (_match, local: string, domain: string) => `${maskLocal(local)}@${domain}`)
}

function maskLocal(local: string): string {
  if (ALREADY_MASKED.test(local)) return local
  if (local.length <= 1) return `${local}***`
  return `${local[0]}***${local[local.length - 1]}`
}

function passesLuhn(digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}

function maskCards(value: string): string {
  return value.replace(CARD_CANDIDATE, (match) => {
    const digits = match.replace(/[ -]/g, '')
    if (digits.length < 13 || digits.length > 19 || !passesLuhn(digits)) return match
    return `${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`
  })
}

function maskSecretPairs(value: string): string {
  let out = ''
  let copied = 0
  NAME_AND_SEPARATOR.lastIndex = 0
  for (let m = NAME_AND_SEPARATOR.exec(value); m !== null; m = NAME_AND_SEPARATOR.exec(value)) {
    if (!SECRET_NAME.test(m[2] as string)) continue
    const at = NAME_AND_SEPARATOR.lastIndex
    SECRET_VALUE.lastIndex = at
    const secret = SECRET_VALUE.exec(value)
    if (secret === null) continue
    const c = secret[0][0]
    out += value.slice(copied, at) + (c === '"' || c === "'" ? c + REDACTED + c : REDACTED)
    copied = at + secret[0].length
    NAME_AND_SEPARATOR.lastIndex = copied
  }
  return copied === 0 ? value : out + value.slice(copied)
}

function maskInlineSecrets(value: string): string {
  return maskSecretPairs(value
    .replace(SCHEME_CREDENTIAL, (_match, scheme: string, space: string) => `${scheme}${space}${REDACTED}`)
    .replace(BASIC_CREDENTIAL, (_match, scheme: string, space: string) => `${scheme}${space}${REDACTED}`))
}

/**
 * Masks inside a string: e-mail addresses, Luhn-valid card numbers, `Bearer`/`Basic` credentials
 * and `secret=value` / `"secret":"value"` pairs (names as in `isSecretKey`). Returns the input when clean.
 */
export function redactString(value: string): string {
  let out = value
  if (INLINE_SECRET_HINT.test(out)) out = maskInlineSecrets(out)
  if (out.indexOf('@') !== -1) out = maskEmail(out)
  if (hasDigitRun(out)) out = maskCards(out)
  return out
}

function hasDigitRun(value: string): boolean {
  let run = 0
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      if (++run >= 13) return true
    } else if (c !== 32 && c !== 45) {
      run = 0
    }
  }
  return false
}

export interface RedactOptions {
  /** Extra key names (compared like the built-in set) to redact. */
  keys?: string[]
  /** Mask e-mail addresses inside strings. Default `true`. */
  emails?: boolean
}

/**
 * Deep copy of `value` with secrets replaced by `"[REDACTED]"`: secret keys (case-insensitive,
 * ignoring `-`/`_`), Luhn-valid card numbers and e-mail addresses inside strings. Never mutates
 * its input; cycles become `"[Circular]"`; an `Error` becomes `{ type, message, ...its own fields }`.
 */
export function redact<T>(value: T, opts: RedactOptions = {}): T {
  const extra = (opts.keys ?? []).map((k) => k.toLowerCase().replace(/[-_]/g, ''))
  const emails = opts.emails ?? true
  const isSecret = extra.length === 0
    ? isSecretKey
    : (key: string) => isSecretKey(key) || extra.includes(key.toLowerCase().replace(/[-_]/g, ''))
  const seen = new WeakSet<object>()

  const walk = (input: unknown): unknown => {
    if (typeof input === 'string') return emails ? redactString(input) : maskCards(INLINE_SECRET_HINT.test(input) ? maskInlineSecrets(input) : input)
    if (input === null || typeof input !== 'object') return input
    if (input instanceof Date) return new Date(input.getTime())
    if (Buffer.isBuffer(input)) return input
    if (seen.has(input)) return '[Circular]'
    seen.add(input)
    let out: unknown
    if (Array.isArray(input)) {
      out = input.map(walk)
    } else if (input instanceof Map) {
      const copy: Record<string, unknown> = {}
      for (const [k, v] of input) copy[String(k)] = isSecret(String(k)) ? REDACTED : walk(v)
      out = copy
    } else {
      // An Error's name and message are not enumerable: copied explicitly (masked), never dropped.
      const copy: Record<string, unknown> = input instanceof Error ? { type: input.name, message: walk(input.message) } : {}
      for (const key of Object.keys(input)) {
        const v = (input as Record<string, unknown>)[key]
        copy[key] = isSecret(key) && v !== undefined && v !== null ? REDACTED : walk(v)
      }
      out = copy
    }
    seen.delete(input)
    return out
  }
  return walk(value) as T
}
