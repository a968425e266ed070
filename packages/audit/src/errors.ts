import createError from '@fastify/error'
import { createOptionError } from '@opskit/core'

// Every error @opskit/audit lets out, with its stable code. The database-facing ones (queue full,
// not committed, refused, a bad query parameter...) come from @opskit/store and are re-exported.

/** A bad option at `register()`; the message names the option. */
export const FST_OPSKIT_AUDIT_INVALID_OPTION = createOptionError('FST_OPSKIT_AUDIT_INVALID_OPTION', '@opskit/audit')

/**
 * @deprecated Use `FST_OPSKIT_AUDIT_INVALID_OPTION`: the same class under its former name (its
 * code is `FST_OPSKIT_AUDIT_INVALID_OPTION` now). Kept so imports do not break; removed in 1.0.
 */
export const FST_AUDIT_INVALID_OPTION = FST_OPSKIT_AUDIT_INVALID_OPTION

// 500: a handler that lets it through has a bug; the client did nothing wrong.
const InvalidEventBase = createError<'FST_OPSKIT_AUDIT_INVALID_EVENT', 500, [string]>(
  'FST_OPSKIT_AUDIT_INVALID_EVENT',
  '@opskit/audit: invalid audit event: %s',
  500,
  TypeError,
)

/** `record()` / `request.audit()` of an event without `action` / `entityType`, or with bad before/after (a rejection). */
export class InvalidAuditEventError extends InvalidEventBase {
  constructor(problem: string) {
    super(problem)
    this.name = 'InvalidAuditEventError'
  }
}

const TrackBase = createError<'FST_OPSKIT_AUDIT_TRACK', 500, [string]>('FST_OPSKIT_AUDIT_TRACK', '@opskit/audit: %s', 500)

/** `track()` / `untrack()` refused: a bad or unknown table, or the audit table itself. */
export class AuditTrackError extends TrackBase {
  constructor(message: string) {
    super(message)
    this.name = 'AuditTrackError'
  }
}

/** `bind(client)` given something that is not the client of an open transaction (a pool, the PGlite instance, nothing). */
export const AuditBindError = createError<'FST_OPSKIT_AUDIT_BIND_CLIENT', 500, [string]>(
  'FST_OPSKIT_AUDIT_BIND_CLIENT',
  '@opskit/audit: %s',
  500,
  TypeError,
)
