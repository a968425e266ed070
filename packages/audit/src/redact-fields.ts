import { isSecretKey, redact, redactNumber, redactString, REDACTED } from '@opskit/core'

const normalize = (key: string): string => key.toLowerCase().replace(/[-_]/g, '')

/**
 * core's `redact()` for one level of fields, with a fast path: top-level keys and string / number
 * values are handled here with core's own primitives (`isSecretKey`, `redactString`), and only
 * nested objects go through the full `redact()` walk. Same result, a fraction of the cost on the
 * request path. Returns a new object; never mutates its input.
 */
export class FieldRedactor {
  readonly #extra: Set<string> | null
  readonly #opts: { keys: string[] } | undefined

  constructor(extraKeys: string[] | undefined) {
    this.#extra = extraKeys === undefined ? null : new Set(extraKeys.map(normalize))
    this.#opts = extraKeys === undefined ? undefined : { keys: extraKeys }
  }

  #isSecret(key: string): boolean {
    return isSecretKey(key) || (this.#extra !== null && this.#extra.has(normalize(key)))
  }

  redact(fields: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(fields)) {
      const value = fields[key]
      if (value === undefined || value === null) out[key] = value
      else if (this.#isSecret(key)) out[key] = REDACTED
      else if (typeof value === 'string') out[key] = redactString(value)
      else if (typeof value === 'number' || typeof value === 'bigint') out[key] = redactNumber(value)
      else if (typeof value !== 'object') out[key] = value
      else out[key] = redact(value, this.#opts)
    }
    return out
  }
}
