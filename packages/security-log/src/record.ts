import { randomUUID } from 'node:crypto'
import { isIP } from 'node:net'
import { redact, sanitizeHeader } from '@opskit/core'
import { deeperThan, MAX_JSON_DEPTH } from '@opskit/store'
import type { RequestContext } from '@opskit/core'
import { defaultSeverity, isSeverity } from './actions.js'
import type { Severity } from './actions.js'

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
 * Details nested deeper than this are replaced by a `{ truncated, size, depth_limit }` marker: PGlite
 * fails on jsonb nested ~1500 deep (a 3 KB request body) and stays broken, blocking every later event.
 */
export const MAX_DETAILS_DEPTH = MAX_JSON_DEPTH
// PostgreSQL text and jsonb reject NUL; a lone UTF-16 surrogate is rejected by jsonb. A row that
// can never be written would be retried forever, so both are cleaned before a row is queued.
// eslint-disable-next-line no-control-regex
const NUL = /\u0000/g
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
const HAS_LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function cleanText(value: string): string {
  let out = value
  if (out.indexOf('\u0000') !== -1) out = out.replace(NUL, '')
  if (HAS_LONE_SURROGATE.test(out)) out = out.replace(LONE_SURROGATE, '\uFFFD')
  return out
}

function optionalText(value: unknown, max = MAX_TEXT_LENGTH): string | null {
  if (value === undefined || value === null) return null
  const text = cleanText(String(value))
  return text.length > max ? text.slice(0, max) : text
}

/** `inet` accepts only a plain address: a zone id (`fe80::1%eth0`) is dropped, anything else becomes null. */
export function normalizeIp(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return null
  const zone = value.indexOf('%')
  const ip = zone === -1 ? value : value.slice(0, zone)
  return isIP(ip) === 0 ? null : ip
}

function cleanJson(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? cleanText(value) : value
}

// cleanJson cleans values, never keys: a NUL or a lone surrogate left in the JSON text can only come
// from a key (or from a value that spells such an escape out, which is harmless to clean again).
const ESCAPE_POSTGRES_REFUSES = /\\u0000|\\ud[89a-f]/i

/** A copy of parsed JSON with every key cleaned (`Object.fromEntries` keeps a `__proto__` key as data). */
function cleanKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cleanKeys)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [cleanText(k), cleanKeys(v)]))
}

/** True when parsed JSON `value` holds an object or array nested more than `levels` deep. */
export class SecurityEventError extends TypeError {
  code = 'FST_SECURITY_LOG_INVALID_EVENT'
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
    try {
      // Stored as logged: core's full redaction (secrets, URL passwords, e-mails). The event's own
      // e-mail is the `user_email` column, kept as given.
      details = redact(event.details, { keys: redactKeys })
      detailsJson = JSON.stringify(details, cleanJson)
    } catch (err) {
      // A BigInt, a throwing toJSON, nesting deeper than the JS stack: keep the event, not its details.
      details = { unserializable: true, error: cleanText(String((err as Error)?.message)).slice(0, 200) }
      detailsJson = JSON.stringify(details)
    }
    if (ESCAPE_POSTGRES_REFUSES.test(detailsJson)) detailsJson = JSON.stringify(cleanKeys(JSON.parse(detailsJson)))
    if (detailsJson.length > MAX_DETAILS_LENGTH) {
      details = { truncated: true, size: detailsJson.length }
      detailsJson = JSON.stringify(details)
    } else {
      details = JSON.parse(detailsJson) as Record<string, unknown>
      if (deeperThan(details, MAX_DETAILS_DEPTH)) {
        details = { truncated: true, size: detailsJson.length, depth_limit: MAX_DETAILS_DEPTH }
        detailsJson = JSON.stringify(details)
      }
    }
  }
  const record: SecurityRecord = {
    id: randomUUID(),
    action: cleanText(action),
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
