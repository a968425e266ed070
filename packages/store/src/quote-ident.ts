import { InvalidIdentError } from './errors.js'

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/**
 * Quotes a table name (`audit_logs` or `schema.audit_logs`) for SQL. Only plain identifiers of at
 * most 63 characters are accepted; anything else throws `InvalidIdentError` (`FST_OPSKIT_STORE_INVALID_IDENT`), so a name is never a way into the SQL.
 */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string') throw new InvalidIdentError(`of type ${typeof name}`)
  const parts = name.split('.')
  if (parts.length > 2 || !parts.every((part) => IDENT.test(part))) {
    throw new InvalidIdentError(JSON.stringify(name))
  }
  return parts.map((part) => `"${part}"`).join('.')
}

/** True when `name` is accepted by `quoteIdent()`. */
export function isValidIdent(name: unknown): name is string {
  if (typeof name !== 'string') return false
  const parts = name.split('.')
  return parts.length <= 2 && parts.every((part) => IDENT.test(part))
}
