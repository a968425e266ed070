/**
 * How an error is written into a log line (the `err` field, and any Error nested in a field):
 * `type`, `message`, `code` when it has one, its other own fields (a pg error's `detail`,
 * `severity`, `constraint`; a socket error's `syscall`, `address`, `port`), `stack` when it has
 * one, `cause` and an AggregateError's `errors`. Works for what is thrown in practice: Error
 * subclasses (ioredis `ReplyError`, pg `DatabaseError`, Node's system errors), plain objects
 * (`{ message, code }`) and strings. Secret fields and strings are redacted afterwards like every
 * other field.
 */
export function serializeError(value: unknown): unknown {
  return serialize(value, 0)
}

const MAX_NESTING = 4

function typeOf(err: Error): string {
  const ctor = (err.constructor as { name?: unknown } | undefined)?.name
  if (typeof ctor === 'string' && ctor !== '' && ctor !== 'Error') return ctor
  return typeof err.name === 'string' && err.name !== '' ? err.name : 'Error'
}

function serialize(value: unknown, depth: number): unknown {
  if (value === null || value === undefined) return value
  if (typeof value !== 'object') {
    return typeof value === 'function' ? { type: 'function', message: value.name } : { type: typeof value, message: String(value) }
  }
  if (Array.isArray(value)) return value
  const isError = value instanceof Error
  const source = value as Record<string, unknown>
  if (!isError && typeof source.message !== 'string' && source.code === undefined) return value
  const out: Record<string, unknown> = {
    type: isError ? typeOf(value) : typeof source.name === 'string' && source.name !== '' ? source.name : 'Object',
    message: typeof source.message === 'string' ? source.message : String(source.message ?? ''),
  }
  if (source.code !== undefined && source.code !== null) out.code = source.code
  for (const key of Object.keys(source)) {
    if (key in out || key === 'stack' || key === 'name' || key === 'cause' || key === 'errors') continue
    const field = source[key]
    if (field === undefined || typeof field === 'function') continue
    // ioredis puts the failed command on its errors; its args can hold a password (AUTH).
    out[key] = key === 'command' && field !== null && typeof field === 'object' ? { name: (field as { name?: unknown }).name } : field
  }
  if (typeof source.stack === 'string' && source.stack !== '') out.stack = source.stack
  if (depth < MAX_NESTING) {
    if (source.cause !== undefined) out.cause = serialize(source.cause, depth + 1)
    if (Array.isArray(source.errors)) out.errors = source.errors.map((item) => serialize(item, depth + 1))
  }
  return out
}
