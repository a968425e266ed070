import type { OptionErrorConstructor } from './errors.js'

/**
 * The option-validation kit every opskit package's `options.ts` uses, so every package validates
 * the same way (an internal-ish helper: exported for the opskit packages, stable within a major).
 */

/** Options Fastify's own `register()` accepts beside a plugin's (they reach the plugin too). */
const FASTIFY_REGISTER_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers'])

/** A plain object: `{}` or `Object.create(null)`, not an array, a class instance or null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** A positive integer (`1`, `2`, …). */
export function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0
}

/** A finite number of milliseconds, `> 0` (or `≥ 0` with `allowZero`). */
export function isDurationMs(value: unknown, allowZero = false): value is number {
  return typeof value === 'number' && Number.isFinite(value) && (allowZero ? value >= 0 : value > 0)
}

/** An ioredis client (or anything shaped like one: `defineCommand()` and a `status`). */
export function isRedisLike<T extends object = { status: string; defineCommand: (...args: never[]) => unknown }>(value: unknown): value is T {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { defineCommand?: unknown }).defineCommand === 'function' &&
    typeof (value as { status?: unknown }).status === 'string'
  )
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/

/** An HTTP header field name (an RFC 9110 token). */
export function isHeaderName(value: unknown): value is string {
  return typeof value === 'string' && HEADER_NAME.test(value)
}

/** A route path: a string starting with `/`. */
export function isRoutePath(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('/')
}

/**
 * Throws `OptionError(<path><key>, 'unknown option')` for the first key of `value` not in `known`.
 * `path` prefixes the key in the message (`'file.'`). Fastify's own register options (`prefix`,
 * `logLevel`, `logSerializers`) are allowed too when `registerOptions` is true: by default at the
 * top level (`path` empty) of a plugin's options; pass `false` for options that never go through
 * `register()` (a factory such as `createLogger()`).
 */
export function refuseUnknownKeys(value: object, known: ReadonlySet<string>, OptionError: OptionErrorConstructor, path = '', registerOptions = path === ''): void {
  for (const key of Object.keys(value)) {
    if (known.has(key) || (registerOptions && FASTIFY_REGISTER_OPTIONS.has(key))) continue
    throw new OptionError(`${path}${key}`, `unknown option; expected one of ${[...known].join(', ')}`)
  }
}
