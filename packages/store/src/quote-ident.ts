const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/**
 * Quotes a table name (`audit_logs` or `schema.audit_logs`) for SQL. Only plain identifiers of at
 * most 63 characters are accepted; anything else throws, so a name is never a way into the SQL.
 */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string') throw new TypeError('@opskit/store: identifier must be a string')
  const parts = name.split('.')
  if (parts.length > 2 || !parts.every((part) => IDENT.test(part))) {
    throw new TypeError(`@opskit/store: invalid SQL identifier ${JSON.stringify(name)}: expected [A-Za-z_][A-Za-z0-9_]{0,62}, optionally schema.table`)
  }
  return parts.map((part) => `"${part}"`).join('.')
}

/** True when `name` is accepted by `quoteIdent()`. */
export function isValidIdent(name: unknown): name is string {
  if (typeof name !== 'string') return false
  const parts = name.split('.')
  return parts.length <= 2 && parts.every((part) => IDENT.test(part))
}
