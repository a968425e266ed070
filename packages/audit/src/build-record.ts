import { randomUUID } from 'node:crypto'
import { sanitizeHeader, type RequestContext } from '@opskit/core'
import { storableIp } from '@opskit/store'
import { diffFields } from './diff.js'
import { kSummary, kTime, type PendingSummary } from './insert-sql.js'
import type { FieldRedactor } from './redact-fields.js'
import type { AuditContext, AuditEvent, AuditRecord } from './types.js'

const MAX_PATH_LENGTH = 2048

/** Thrown (as a rejection) for an event without `action` / `entityType`, or with bad before/after. */
export class InvalidAuditEventError extends TypeError {
  readonly code = 'FST_AUDIT_INVALID_EVENT'
  constructor(problem: string) {
    super(`@opskit/audit: invalid audit event: ${problem}`)
    this.name = 'InvalidAuditEventError'
  }
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
  const entityId = event.entityId == null ? null : String(event.entityId)
  const entityName = event.entityName == null ? null : String(event.entityName)
  const before = event.before ?? null
  const after = event.after ?? null

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
    user_id: actor?.id ?? null,
    user_email: actor?.email ?? null,
    action: event.action,
    entity_type: event.entityType,
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
