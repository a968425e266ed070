import { randomUUID } from 'node:crypto'
import { sanitizeHeader, type RequestContext } from '@opskit/core'
import { deeperThan, MAX_JSON_DEPTH, storableIp } from '@opskit/store'
import { diffFields } from './diff.js'
import { kSummary, kTime, type PendingSummary } from './insert-sql.js'
import type { FieldRedactor } from './redact-fields.js'
import type { AuditContext, AuditEvent, AuditRecord } from './types.js'

const MAX_PATH_LENGTH = 2048

/**
 * Longest `user_id`, `action`, `entity_type` and `entity_id` stored as given. These columns are
 * indexed in pairs, and a btree entry holds at most ~2.7 KB: a longer value (a client-supplied id,
 * say) would make PostgreSQL refuse the row. 400 characters are at most 1200 UTF-8 bytes, so a pair
 * always fits. A longer value is cut and ends with `…[truncated, N chars]` (N = its full length).
 */
export const MAX_KEY_LENGTH = 400

/** `value` as stored in an indexed column: cut to MAX_KEY_LENGTH with a marker that says so. */
export function boundKey(value: string): string
export function boundKey(value: string | null): string | null
export function boundKey(value: string | null): string | null {
  if (value === null || value.length <= MAX_KEY_LENGTH) return value
  const marker = `…[truncated, ${value.length} chars]`
  let end = MAX_KEY_LENGTH - marker.length
  // Never cut a surrogate pair in half.
  const code = value.charCodeAt(end - 1)
  if (code >= 0xd800 && code <= 0xdbff) end--
  return value.slice(0, end) + marker
}

/** What a value nested deeper than MAX_JSON_DEPTH is stored as (same marker as the whole-value check). */
const DEPTH_MARKER = Object.freeze({ truncated: true, depth_limit: MAX_JSON_DEPTH })

/**
 * `fields`, or the depth marker when it nests deeper than the stored depth limit: checked before
 * diffing, redaction and serialization walk it (a 10,000-level JSON body would otherwise overflow
 * the stack there and lose the event). The check itself stops at the limit.
 */
function boundDepth(fields: Record<string, unknown>): Record<string, unknown> {
  return deeperThan(fields, MAX_JSON_DEPTH) ? { ...DEPTH_MARKER } : fields
}

const CREATE_VERBS: Record<string, string> = { create: 'created', delete: 'deleted' }

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Checks an event; returns a problem description, or undefined when it is fine. */
export function eventProblem(event: AuditEvent): string | undefined {
  if (!isRecord(event)) return 'expected an object { action, entityType, ... }'
  if (typeof event.action !== 'string' || event.action.length === 0) return '"action" must be a non-empty string'
  if (typeof event.entityType !== 'string' || event.entityType.length === 0) return '"entityType" must be a non-empty string'
  if (event.before != null && !isRecord(event.before)) return '"before" must be an object'
  if (event.after != null && !isRecord(event.after)) return '"after" must be an object'
  return undefined
}

/**
 * Builds the row synchronously (the caller may change its objects right after): client-side id and
 * timestamp, changed fields only (full object on create / delete), redacted before anything else
 * sees them, and a readable summary made from the redacted values.
 */
export function buildRecord(
  event: AuditEvent,
  request: RequestContext | undefined,
  ctx: AuditContext | undefined,
  redactor: FieldRedactor,
): AuditRecord {
  const actor = ctx?.actor !== undefined ? ctx.actor : (request?.actor ?? null)
  const entityId = event.entityId == null ? null : boundKey(String(event.entityId))
  const entityName = event.entityName == null ? null : String(event.entityName)
  const before = event.before == null ? null : boundDepth(event.before)
  const after = event.after == null ? null : boundDepth(event.after)

  // Redacted copies are taken now (the caller may change its objects right after); the summary is
  // made from those copies when the row is written, off the request path.
  let oldValues: Record<string, unknown> | null = null
  let newValues: Record<string, unknown> | null = null
  let summary: PendingSummary
  if (before !== null && after !== null) {
    const changes = diffFields(before, after)
    oldValues = redactor.redact(changes.oldValues)
    newValues = redactor.redact(changes.newValues)
    summary = { keys: changes.keys }
  } else {
    if (before !== null) oldValues = redactor.redact(before)
    if (after !== null) newValues = redactor.redact(after)
    summary = { verb: CREATE_VERBS[event.action] ?? event.action }
  }

  const ip = ctx?.ip !== undefined ? ctx.ip : (request?.ip ?? null)
  const userAgent = ctx?.userAgent !== undefined ? ctx.userAgent : (request?.userAgent ?? null)
  const path = ctx?.path !== undefined ? ctx.path : (request?.url ?? null)
  const requestId = ctx?.requestId !== undefined ? ctx.requestId : (request?.requestId ?? null)
  const row: AuditRecord & { [kTime]?: number; [kSummary]?: PendingSummary } = {
    id: randomUUID(),
    user_id: actor?.id == null ? null : boundKey(String(actor.id)),
    user_email: actor?.email ?? null,
    action: boundKey(event.action),
    entity_type: boundKey(event.entityType),
    entity_id: entityId,
    entity_name: entityName,
    old_values: oldValues,
    new_values: newValues,
    changes_summary: '',
    // An address inet would refuse becomes null (a zone is dropped) rather than a failed INSERT.
    ip_address: storableIp(ip),
    user_agent: userAgent == null ? null : (sanitizeHeader(userAgent) ?? null),
    request_path: path == null ? null : (sanitizeHeader(path, MAX_PATH_LENGTH) ?? null),
    request_id: requestId == null ? null : (sanitizeHeader(requestId, 128) ?? null),
    trace_id: request?.traceId ?? null,
    // Formatted when the row is written (off the request path); the event time is taken now.
    created_at: '',
  }
  row[kTime] = Date.now()
  row[kSummary] = summary
  return row
}
