export const REDACTED = '[REDACTED]'

/**
 * The key rule. A key is split into words (on `-`, `_`, `.`, spaces, camelCase and before digits:
 * `x-api-key`, `newPassword`, `APIKey`, `password2`), lower-cased and joined. It names a secret when a secret term spans whole
 * words of it (`api`+`key`, `session`+`id`, `private`+`key`, `db_pass`), or, for the long terms,
 * ends a word (`accesstoken`, `dbpassword`: any key containing `token` keeps working), and no word
 * after the term says the value is only about the secret: `password_changed_at`, `token_type`,
 * `cookie_consent`, `secret_name` are not secrets. `secretary` is not (the term must end a word).
 */
const LONG_TERMS = [
  'password', 'passwords', 'passwd', 'passphrase', 'secret', 'secrets', 'secretkey', 'token', 'tokens',
  'authorization', 'cookie', 'cookies', 'apikey', 'creditcard', 'privatekey', 'sessionid',
]
// Short terms match whole words only: `db_pass`, `user_pwd`, `sid`, never `bypass`, `ssid`, `compass`.
const SHORT_TERMS = ['pass', 'pwd', 'sid', 'ssn', 'cvv', 'cvc']
const METADATA_WORDS = new Set([
  'at', 'on', 'time', 'timestamp', 'date', 'changed', 'updated', 'created', 'modified', 'rotated',
  'expires', 'expiry', 'expiration', 'expired', 'ttl', 'age', 'length', 'len', 'size', 'count',
  'policy', 'type', 'kind', 'consent', 'enabled', 'disabled', 'required', 'strength', 'status',
  'name', 'url', 'uri', 'endpoint', 'path', 'domain', 'format', 'version', 'algorithm', 'alg', 'scheme',
])

/**
 * Internal, for packages that must apply `isSecretKey()` elsewhere (the SQL triggers of
 * @opskit/audit generate their key rule from these lists, so the two cannot drift): the long
 * terms (whole words or the end of a run-together word), the short terms (whole words only) and
 * the descriptive words that spare a key when they follow the term. Not a stable API.
 */
export const SECRET_KEY_TERMS: { readonly long: readonly string[]; readonly short: readonly string[]; readonly metadata: readonly string[] } = Object.freeze({
  long: Object.freeze([...LONG_TERMS]),
  short: Object.freeze([...SHORT_TERMS]),
  metadata: Object.freeze([...METADATA_WORDS]),
})

const keyCache = new Map<string, boolean>()
const KEY_CACHE_LIMIT = 10_000

function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])([0-9])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0)
}

function matchesTerms(words: string[]): boolean {
  const joined = words.join('')
  // ends[i]: offset in `joined` where word i ends; a boundary is any word start or end.
  const ends: number[] = []
  const boundaries = new Set<number>([0])
  let at = 0
  for (const word of words) {
    at += word.length
    ends.push(at)
    boundaries.add(at)
  }
  const qualifies = (term: string, long: boolean): boolean => {
    for (let i = joined.indexOf(term); i !== -1; i = joined.indexOf(term, i + 1)) {
      const end = i + term.length
      if (!boundaries.has(end) || (!long && !boundaries.has(i))) continue
      let after = ends.indexOf(end) + 1
      while (after < words.length && !METADATA_WORDS.has(words[after] as string)) after++
      if (after === words.length) return true
    }
    return false
  }
  for (const term of LONG_TERMS) if (qualifies(term, true)) return true
  for (const term of SHORT_TERMS) if (qualifies(term, false)) return true
  return false
}

/**
 * True when a property name names a secret (`password`, `accessToken`, `x-api-key`, `Set-Cookie`,
 * `pwd`, `sessionId`, `private_key`...), and false for keys that only talk about one
 * (`password_changed_at`, `token_type`, `cookie_consent`) or merely contain the letters (`secretary`).
 */
export function isSecretKey(key: string): boolean {
  const cached = keyCache.get(key)
  if (cached !== undefined) return cached
  const secret = matchesTerms(keyWords(key))
  if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(key, secret)
  return secret
}

// `*` is part of the local part so that masking an already masked address changes nothing.
const EMAIL = /([A-Za-z0-9._%+*-]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g
const ALREADY_MASKED = /^[^*]?\*\*\*[^*]?$/
const CARD_CANDIDATE = /\b\d(?:[ -]?\d){12,18}\b/g
// The password of a URL with userinfo, whatever the host (`postgresql://app:pw@localhost`): up to
// the last `@` of the authority, so a password holding a raw `@` is masked whole.
const URL_PASSWORD = /\b([A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/)([^\s:/?#@[\]]*):(?!\[REDACTED\]@)([^\s/?#]+)@/g
// Secrets recognisable by their shape alone, under any key and inside any string. Each starts at a
// token boundary; the cheap hint is tested first so that ordinary strings pay one scan.
const SHAPE_HINT = /eyJ|-----BEGIN|A[KS]IA|[sr]k_(?:live|test)_|gh[pousr]_|github_pat_|AIza|sk-|xox[a-z]-/
const SHAPES = new RegExp(
  [
    // PEM private key blocks (PKCS#1/#8, EC, OpenSSH, encrypted, PGP), to END or the end of the text.
    String.raw`-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END \1PRIVATE KEY\2-----|$)`,
    String.raw`(?<![A-Za-z0-9_-])(?:` + [
      // JWT / JWS: three base64url segments, the header a JSON object (`eyJ`).
      String.raw`eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`,
      // AWS access key ids (long-lived and STS).
      String.raw`(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])`,
      // Stripe secret and restricted keys, live and test.
      String.raw`[sr]k_(?:live|test)_[A-Za-z0-9]{10,}`,
      // GitHub tokens: personal, OAuth, user-to-server, server-to-server, refresh, fine-grained.
      String.raw`gh[pousr]_[A-Za-z0-9]{20,}`,
      String.raw`github_pat_[A-Za-z0-9_]{20,}`,
      // Google API keys.
      String.raw`AIza[0-9A-Za-z_-]{30,}`,
      // OpenAI keys (`sk-…`, `sk-proj-…`); the body must hold a digit, so `sk-learn-…` prose stays.
      String.raw`sk-[A-Za-z0-9_-]{20,}`,
      // Slack tokens (`xoxb-`, `xoxp-`, `xoxa-`, `xoxs-`…).
      String.raw`xox[a-z]-[A-Za-z0-9-]{10,}`,
    ].join('|') + ')',
  ].join('|'),
  'g',
)
const HAS_DIGIT = /\d/
// Credentials written inline in a string: `Bearer <token>` / `Basic <base64>` under any key name
// or in a message, and `name=value`, `name: value`, `"name":"value"` where name is a secret key
// (query strings, formatted objects, upstream error messages). Checked only when the cheap hint matches.
const INLINE_SECRET_HINT = /bearer|basic|pass|pwd|secret|token|authoriz|cookie|api[-_]?key|credit[-_]?card|cvv|cvc|ssn|sid|session|private/i
const SCHEME_CREDENTIAL = /\b(Bearer|bearer|BEARER)(\s+)(?!\[REDACTED\])[A-Za-z0-9._~+/=-]+/g
// What makes the word after `Bearer` a token rather than prose ("Bearer of bad news").
const TOKEN_LIKE = /[0-9._~+/=-]|.[A-Z]/
// `Basic` followed by something that looks like base64 (a digit, an upper-case letter or +/=), not "Basic plan".
const BASIC_CREDENTIAL = /\b(Basic|BASIC)(\s+)(?=[A-Za-z0-9+/]{1,}[0-9A-Z+/=])[A-Za-z0-9+/]{8,}={0,2}/g
// Linear on hostile input (a 16 KB URL path): a name starts only at a token boundary and is at
// most 128 characters; the value is matched separately, sticky, and only after a secret name.
const NAME_AND_SEPARATOR = /(["']?)(?<![A-Za-z0-9_-])([A-Za-z0-9_-]{1,128})\1\s{0,8}[=:]\s{0,8}/g
const SECRET_VALUE = /(?:Bearer|Basic)\s{1,8}\S{1,4096}|"(?!\[REDACTED\]")[^"]{0,1024}"|'(?!\[REDACTED\]')[^']{0,1024}'|(?!\[REDACTED\])[^\s&,;"'}\]]+/iy

/**
 * `user@example.com` → `u***r@example.com`. Masks every address inside a longer string too; idempotent.
 * Not an address: URL userinfo (`ssh://git@github.com/…`) and an scp-style remote (`git@github.com:org/repo`).
 */
export function maskEmail(value: string): string {
  if (value.indexOf('@') === -1) return value
  return value.replace(EMAIL, (match: string, local: string, domain: string, offset: number, whole: string) => {
    if (offset >= 2 && whole.charCodeAt(offset - 1) === 47 && whole.charCodeAt(offset - 2) === 47) return match
    const next = offset + match.length
    if (whole.charCodeAt(next) === 58 && next + 1 < whole.length && !/\s/.test(whole[next + 1] as string)) return match
    return `${maskLocal(local)}@${domain}`
  })
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

// 13–19 digits, a payment-card industry first digit (2–6: Mastercard 2-series, Amex, Diners, JCB,
// Visa, Mastercard, Discover, UnionPay) and Luhn: a millisecond timestamp (`1764629724006`) is not one.
function isCardNumber(digits: string): boolean {
  const first = digits.charCodeAt(0)
  return digits.length >= 13 && digits.length <= 19 && first >= 50 && first <= 54 && passesLuhn(digits)
}

function maskCards(value: string): string {
  return value.replace(CARD_CANDIDATE, (match) => {
    const digits = match.replace(/[ -]/g, '')
    if (!isCardNumber(digits)) return match
    return `${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`
  })
}

/**
 * A card number given as a number (`4111111111111111`, or a bigint) becomes the masked string
 * `************1111`; any other number is returned as is. Only 13–19 digit integers whose first
 * digit is a payment-card industry (2–6) and that pass Luhn count, so millisecond and microsecond
 * timestamps (`1764629724000`) and ordinary ids stay numbers.
 */
export function redactNumber<T extends number | bigint>(value: T): T | string {
  if (typeof value === 'number') {
    if (!(value >= 2e12) || value >= 7e18 || !Number.isInteger(value)) return value
  } else if (typeof value !== 'bigint' || value < 2_000_000_000_000n || value >= 7_000_000_000_000_000_000n) {
    return value
  }
  const digits = typeof value === 'bigint' ? value.toString() : value.toFixed(0)
  if (!isCardNumber(digits)) return value
  return `${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`
}

function maskSecretPairs(value: string): string {
  let out = ''
  let copied = 0
  NAME_AND_SEPARATOR.lastIndex = 0
  for (let m = NAME_AND_SEPARATOR.exec(value); m !== null; m = NAME_AND_SEPARATOR.exec(value)) {
    if (!isSecretKey(m[2] as string)) continue
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

function maskBearer(match: string, scheme: string, space: string, _offset: number, whole: string): string {
  const token = match.slice(scheme.length + space.length)
  // A token-like word, a long one, or the whole string is `Bearer <x>` (a header value under any key).
  if (TOKEN_LIKE.test(token) || token.length >= 12 || whole.trim().length === match.length) return `${scheme}${space}${REDACTED}`
  return match
}

function maskInlineSecrets(value: string): string {
  return maskSecretPairs(value
    .replace(SCHEME_CREDENTIAL, maskBearer)
    .replace(BASIC_CREDENTIAL, (_match, scheme: string, space: string) => `${scheme}${space}${REDACTED}`))
}

function maskShapes(value: string): string {
  return value.replace(SHAPES, (match) => (match.startsWith('sk-') && !HAS_DIGIT.test(match) ? match : REDACTED))
}

function maskUrlPasswords(value: string): string {
  return value.indexOf('://') === -1 ? value : value.replace(URL_PASSWORD, (_match, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
}

/**
 * Masks inside a string: secrets by their shape (JWTs, PEM private keys, AWS key ids, Stripe,
 * GitHub, Google, OpenAI and Slack tokens), URL passwords, `Bearer`/`Basic` credentials and
 * `secret=value` / `"secret":"value"` pairs (names as in `isSecretKey`), e-mail addresses and
 * Luhn-valid card numbers. Returns the input when clean.
 */
export function redactString(value: string): string {
  return maskText(value, true)
}

function maskText(value: string, emails: boolean): string {
  if (value.length < 6) return value
  let out = value
  if (SHAPE_HINT.test(out)) out = maskShapes(out)
  if (INLINE_SECRET_HINT.test(out)) out = maskInlineSecrets(out)
  if (out.indexOf('@') !== -1) {
    out = maskUrlPasswords(out)
    if (emails) out = maskEmail(out)
  }
  if (hasDigitRun(out)) out = maskCards(out)
  return out
}

// An error header line in a stack (`TypeError: …`, pino's `caused by: Error: …`): its text is the
// error's message, masked as a whole value like the message itself.
const STACK_HEADER = /^(\s*(?:caused by: )?[A-Za-z_$][\w$.]*: )(.+)$/gm

function maskStack(stack: string, emails: boolean): string {
  return maskText(stack, emails).replace(STACK_HEADER, (_match, head: string, text: string) => head + maskText(text, emails))
}

/** An error stack masked like any string, and each `Name: message` line like the message it repeats. */
export function redactStack(stack: string): string {
  return maskStack(stack, true)
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

/** How deep `redact()` copies; anything nested deeper becomes `DEPTH_LIMIT_MARKER`. */
export const REDACT_MAX_DEPTH = 100
/** What replaces an object or array nested deeper than `REDACT_MAX_DEPTH`. */
export const DEPTH_LIMIT_MARKER = '[Depth limit]'

export interface RedactOptions {
  /** Extra key names (compared like the built-in set) to redact. */
  keys?: string[]
  /** Mask e-mail addresses inside strings. Default `true`. */
  emails?: boolean
}

/**
 * Deep copy of `value` with secrets replaced by `"[REDACTED]"`: secret keys (see `isSecretKey`),
 * and inside every string the secrets `redactString` finds; card numbers given as numbers are
 * masked (`redactNumber`). Never mutates its input; cycles become `"[Circular]"`; an `Error`
 * becomes `{ type, message, stack, ...its own fields, cause }`, masked the same way. Objects nested
 * deeper than `REDACT_MAX_DEPTH` become `"[Depth limit]"` (never a stack overflow).
 */
export function redact<T>(value: T, opts: RedactOptions = {}): T {
  const extra = (opts.keys ?? []).map((k) => k.toLowerCase().replace(/[-_]/g, ''))
  const emails = opts.emails ?? true
  const isSecret = extra.length === 0
    ? isSecretKey
    : (key: string) => isSecretKey(key) || extra.includes(key.toLowerCase().replace(/[-_]/g, ''))
  const seen = new WeakSet<object>()

  const walk = (input: unknown, depth: number): unknown => {
    if (typeof input === 'string') return maskText(input, emails)
    if (typeof input === 'number' || typeof input === 'bigint') return redactNumber(input)
    if (input === null || typeof input !== 'object') return input
    if (input instanceof Date) return new Date(input.getTime())
    if (Buffer.isBuffer(input)) return input
    if (seen.has(input)) return '[Circular]'
    if (depth >= REDACT_MAX_DEPTH) return DEPTH_LIMIT_MARKER
    seen.add(input)
    const next = depth + 1
    let out: unknown
    if (Array.isArray(input)) {
      out = input.map((item) => walk(item, next))
    } else if (input instanceof Map) {
      const copy: Record<string, unknown> = {}
      for (const [k, v] of input) copy[String(k)] = isSecret(String(k)) ? REDACTED : walk(v, next)
      out = copy
    } else {
      // An Error's name, message and stack are not enumerable: copied explicitly (masked), never dropped.
      const copy: Record<string, unknown> = {}
      if (input instanceof Error) {
        copy.type = input.name
        copy.message = walk(input.message, next)
        if (typeof input.stack === 'string') copy.stack = maskStack(input.stack, emails)
      }
      for (const key of Object.keys(input)) {
        const v = (input as Record<string, unknown>)[key]
        copy[key] = isSecret(key) && v !== undefined && v !== null ? REDACTED : walk(v, next)
      }
      if (input instanceof Error && input.cause !== undefined && !('cause' in copy)) copy.cause = walk(input.cause, next)
      out = copy
    }
    seen.delete(input)
    return out
  }
  return walk(value, 0) as T
}
