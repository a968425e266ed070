import { randomUUID } from 'node:crypto'
import { redact, sanitizeHeader } from '@opskit/core'
import { deeperThan, MAX_JSON_DEPTH, storableIp, storableJson, storableText } from '@opskit/store'
import type { RequestContext } from '@opskit/core'
import { defaultSeverity, isSeverity } from './actions.js'
import type { Severity } from './actions.js'
import { SecurityEventError } from './errors.js'

/** What a caller says about an event; everything else comes from the request context. */
export interface SecurityEventOptions {
  /** Default: the action's default severity (`info` for an unknown action). */
  severity?: Severity
  /** Default: the request's actor id. */
  userId?: string | null
  /** Stored as given (investigators need it); masked in log lines and alerts. Default: the actor's e-mail. */
  email?: string | null
  /** Free-form JSON, redacted (secret keys and shapes, URL passwords, card numbers, e-mails) before it is stored or logged. */
  details?: Record<string, unknown>
}

export interface SecurityEvent extends SecurityEventOptions {
  action: string
}

/** Where an event happened. Filled from the request context; pass it to `record()` outside a request. */
export interface SecurityEventContext {
  ip?: string | null
  userAgent?: string | null
  requestPath?: string | null
  requestId?: string | null
  /** The request's trace id (32 lowercase hex), from core's request context. */
  traceId?: string | null
  userId?: string | null
  email?: string | null
}

/** A stored row, JSON-friendly (the shape of `GET <prefix>` items). */
export interface SecurityRecord {
  id: string
  action: string
  severity: Severity
  user_id: string | null
  user_email: string | null
  ip_address: string | null
  user_agent: string | null
  request_path: string | null
  request_id: string | null
  details: Record<string, unknown> | null
  created_at: string
  trace_id: string | null
}

const MAX_ACTION_LENGTH = 128
/** Serialized details above this many characters are replaced by a `{ truncated, size }` marker. */
export const MAX_DETAILS_LENGTH = 32_768
const MAX_TEXT_LENGTH = 1024
/**
 * Details nested deeper than this are replaced by a `{ truncated, depth_limit }` marker, checked
 * before anything walks them (redaction, serialization): PGlite fails on jsonb nested ~1500 deep
 * and stays broken, and a 10,000-level request body would overflow the stack.
 */
export const MAX_DETAILS_DEPTH = MAX_JSON_DEPTH

// Values PostgreSQL refuses (NUL in text; NUL or a lone surrogate in jsonb, keys included) are
// cleaned by @opskit/store's rules, the same as audit's rows: each becomes U+FFFD.
function optionalText(value: unknown, max = MAX_TEXT_LENGTH): string | null {
  if (value === undefined || value === null) return null
  const text = storableText(String(value))
  return text.length > max ? text.slice(0, max) : text
}

/** `inet` accepts only a plain address: a zone id (`fe80::1%eth0`) is dropped, anything else becomes null. */
export function normalizeIp(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? storableIp(value) : null
}


/** A context from core's request context (`getRequestContext()` or `request.opskitContext`). */
export function contextFromRequest(context: RequestContext | undefined | null): SecurityEventContext {
  if (context === undefined || context === null) return {}
  return {
    ip: context.ip,
    userAgent: context.userAgent,
    requestPath: context.url,
    requestId: context.requestId,
    traceId: context.traceId ?? null,
    userId: context.actor?.id ?? null,
    email: context.actor?.email ?? null,
  }
}

/**
 * Builds the row for `event`: validates action and severity, fills user, ip, user agent, path and
 * request id from `context`, redacts `details`, and cleans every text so the INSERT cannot fail
 * on its content. Throws `SecurityEventError` for a bad action or severity.
 */
export function buildRecord(event: SecurityEvent, context: SecurityEventContext, redactKeys: string[] | undefined): { record: SecurityRecord; detailsJson: string | null } {
  const { action } = event
  if (typeof action !== 'string' || action.length === 0 || action.length > MAX_ACTION_LENGTH) {
    throw new SecurityEventError(`@opskit/security-log: action must be a non-empty string of at most ${MAX_ACTION_LENGTH} characters`)
  }
  const severity = event.severity ?? defaultSeverity(action)
  if (!isSeverity(severity)) {
    throw new SecurityEventError('@opskit/security-log: severity must be "info", "warning" or "critical"')
  }
  let details: Record<string, unknown> | null = null
  let detailsJson: string | null = null
  if (event.details !== undefined && event.details !== null) {
    if (typeof event.details !== 'object' || Array.isArray(event.details)) {
      throw new SecurityEventError('@opskit/security-log: details must be a plain object')
    }
    if (deeperThan(event.details, MAX_DETAILS_DEPTH)) {
      details = { truncated: true, depth_limit: MAX_DETAILS_DEPTH }
      detailsJson = JSON.stringify(details)
    } else {
      try {
        // Stored as logged: core's full redaction (secrets, URL passwords, e-mails). The event's own
        // e-mail is the `user_email` column, kept as given.
        ;({ text: detailsJson, value: details } = storableJson(redact(event.details, { keys: redactKeys })))
      } catch (err) {
        // A BigInt, a throwing toJSON: keep the event, not its details.
        details = { unserializable: true, error: storableText(String((err as Error)?.message)).slice(0, 200) }
        detailsJson = JSON.stringify(details)
      }
      if (detailsJson.length > MAX_DETAILS_LENGTH) {
        details = { truncated: true, size: detailsJson.length }
        detailsJson = JSON.stringify(details)
      } else {
        // The record holds exactly what the row holds, shared with nothing the caller keeps.
        details = JSON.parse(detailsJson) as Record<string, unknown>
      }
    }
  }
  const record: SecurityRecord = {
    id: randomUUID(),
    action: storableText(action),
    severity,
    user_id: optionalText(event.userId !== undefined ? event.userId : context.userId, 256),
    user_email: optionalText(event.email !== undefined ? event.email : context.email, 320),
    ip_address: normalizeIp(context.ip),
    user_agent: optionalText(sanitizeHeader(context.userAgent ?? undefined)),
    request_path: optionalText(context.requestPath, 2048),
    request_id: optionalText(context.requestId, 128),
    details,
    created_at: new Date().toISOString(),
    trace_id: optionalText(context.traceId, 32),
  }
  return { record, detailsJson }
}
