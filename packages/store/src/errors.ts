import createError from '@fastify/error'

// Every error @opskit/store lets out, with its stable code. The five codes without `STORE_`
// (`FST_OPSKIT_INVALID_QUERY`, `FST_OPSKIT_REFUSED`, `FST_OPSKIT_UNAUTHORIZED`,
// `FST_OPSKIT_FORBIDDEN`, `FST_OPSKIT_AUTHORIZE_FAILED`) are older than the naming rule and are
// what audit, security-log and the console answer and document: they stay as they are.

const InvalidQueryBase = createError<'FST_OPSKIT_INVALID_QUERY', 400, [string, string]>(
  'FST_OPSKIT_INVALID_QUERY',
  'invalid query parameter "%s": %s',
  400,
)

/** A bad list query parameter (the routes answer it as a 400): the message and `parameter` name it. */
export class InvalidQueryError extends InvalidQueryBase {
  /** The query parameter at fault (`limit`, `from`, ...). */
  readonly parameter: string
  constructor(parameter: string, problem: string) {
    super(parameter, problem)
    this.name = 'InvalidQueryError'
    this.parameter = parameter
  }
}

const RefusedBase = createError<'FST_OPSKIT_REFUSED', 500, [string]>('FST_OPSKIT_REFUSED', '%s', 500)

/**
 * What a `record()` rejects with when the database refused its event for the event's content:
 * the event is not stored (and never retried), the events written with it are. `fields` names the
 * columns the database pointed at (empty when it could not tell).
 */
export class RefusedError extends RefusedBase {
  /** SQLSTATE of the database's refusal, e.g. `54000` (index row size), `23514` (CHECK). */
  readonly sqlState: string | undefined
  readonly fields: string[]
  constructor(pkg: string, what: string, sqlState: string | undefined, reason: string, fields: string[]) {
    const where = fields.length === 0 ? 'the field could not be told' : `field${fields.length > 1 ? 's' : ''} ${fields.map((f) => `"${f}"`).join(', ')}`
    super(`${pkg}: the database refused this ${what} for its content (${where}; ${sqlState ?? 'error'}: ${reason}); it is NOT stored, the ${what}s written with it are`)
    this.name = 'RefusedError'
    this.sqlState = sqlState
    this.fields = fields
  }
}

/** A list route's request without an actor, refused by `authorize` (401). */
export const UnauthorizedError = createError('FST_OPSKIT_UNAUTHORIZED', 'authentication required', 401)
/** A list route's request with an actor, refused by `authorize` (403). */
export const ForbiddenError = createError('FST_OPSKIT_FORBIDDEN', 'not allowed to read this log', 403)
/** `authorize` threw: the answer is a 500 that never carries the thrown message (it is logged). */
export const AuthorizeFailedError = createError('FST_OPSKIT_AUTHORIZE_FAILED', 'authorization check failed', 500)

/** `quoteIdent()` of a name that is not `name` or `schema.name` of plain identifiers. */
export const InvalidIdentError = createError<'FST_OPSKIT_STORE_INVALID_IDENT', 500, [string]>(
  'FST_OPSKIT_STORE_INVALID_IDENT',
  '@opskit/store: invalid SQL identifier %s: expected [A-Za-z_][A-Za-z0-9_]{0,62}, optionally schema.table',
  500,
  TypeError,
)

/** `openDatabase()` of something that is not a connection. */
export const InvalidConnectionError = createError<'FST_OPSKIT_STORE_INVALID_CONNECTION', 500, [string]>(
  'FST_OPSKIT_STORE_INVALID_CONNECTION',
  '%s: connection must be a pg.Pool, a PGlite instance, a connection string or { embedded: { dataDir? } }',
  500,
  TypeError,
)

/** `runMigration()` failed and was rolled back; `cause` is the database's error (its `code` the SQLSTATE). */
export const MigrationFailedError = createError<'FST_OPSKIT_STORE_MIGRATION_FAILED', 500, [string, string, { cause: unknown }]>(
  'FST_OPSKIT_STORE_MIGRATION_FAILED',
  '@opskit/store: migration "%s" failed and was rolled back: %s',
  500,
)

/** `new GroupCommitQueue(opts)` with a missing `write` or a bad number (the message names the option). */
export const FST_OPSKIT_STORE_INVALID_OPTION = createError<'FST_OPSKIT_STORE_INVALID_OPTION', 500, [option: string, problem: string]>(
  'FST_OPSKIT_STORE_INVALID_OPTION',
  '@opskit/store: GroupCommitQueue: invalid option "%s": %s',
  500,
  TypeError,
)
