import type { Actor } from '@opskit/core'
import type { Queryable } from '@opskit/store'
import type { VerifyOptions, VerifyResult } from './verify.js'

/** What happened, to what. Actor, e-mail, IP, user agent, path and request id come from the request. */
export interface AuditEvent {
  /** Free text; the known set is create, update, delete, login, logout, approve, reject, suspend, activate, payment, refund, cancel, confirm, complete. */
  action: string
  /** `booking`, `user`, `invoice`... */
  entityType: string
  entityId?: string | number | null
  entityName?: string | null
  /** The entity before the change (omit on create). Only changed fields are stored on update. */
  before?: Record<string, unknown> | null
  /** The entity after the change (omit on delete). */
  after?: Record<string, unknown> | null
}

/** Options of one `request.audit()` call. */
export interface AuditCallOptions {
  /**
   * A pg client (or PGlite transaction) inside the caller's transaction: the row is written on it
   * at once and commits or rolls back with the caller's change.
   */
  client?: Queryable
}

/**
 * Who and where, for `fastify.audit.record()` outside a request (or to override it). Fields left
 * out are taken from `getRequestContext()` when called inside a request.
 */
export interface AuditContext extends AuditCallOptions {
  actor?: Actor | null
  ip?: string | null
  userAgent?: string | null
  /** Request path (no query string). */
  path?: string | null
  requestId?: string | null
}

/** A stored audit row, JSON-friendly (as the query route returns it). */
export interface AuditRecord {
  id: string
  user_id: string | null
  user_email: string | null
  action: string
  entity_type: string
  entity_id: string | null
  entity_name: string | null
  old_values: Record<string, unknown> | null
  new_values: Record<string, unknown> | null
  changes_summary: string
  ip_address: string | null
  user_agent: string | null
  request_path: string | null
  request_id: string | null
  /** ISO-8601. */
  created_at: string
  /** The request's trace id (32 lowercase hex) when it had one. */
  trace_id?: string | null
}

/** Filters of `fastify.audit.query()` and `GET <prefix>` (strings, as in a query string). */
export interface AuditQuery {
  user_id?: string
  action?: string
  entity_type?: string
  entity_id?: string
  /** ISO-8601 date, inclusive. */
  from?: string
  /** ISO-8601 date, inclusive. */
  to?: string
  /** 1–100, default 50. */
  limit?: number | string
  /** ≥ 0, default 0. */
  skip?: number | string
}

export interface AuditPage {
  items: AuditRecord[]
  limit: number
  skip: number
  total: number
}

/** The trail itself (what AuditService implements); `AuditApi` adds auditable records and the chain. */
export interface AuditTrailApi {
  /** Records an event (context from `ctx`, else the current request, else none). Resolves once committed. */
  record(event: AuditEvent, ctx?: AuditContext): Promise<AuditRecord>
  /** Newest first, `{ items, limit, skip, total }`; throws a 400 error naming a bad filter. */
  query(filters?: AuditQuery): Promise<AuditPage>
  /** Resolves when every event accepted so far is committed. */
  flush(): Promise<void>
  /** Creates the table and indexes (idempotent, safe when instances start at once). */
  migrate(): Promise<void>
  /** Accepted-but-unwritten events. */
  readonly queueDepth: number
}

export interface AuditApi extends AuditTrailApi {
  /**
   * Binds this request's actor, IP, user agent, path and request id (or `ctx`) to the caller's
   * transaction (one `set_config('opskit.ctx', ..., true)`), for the rows the triggers of tracked
   * tables write in it. Call it inside the transaction, before the writes.
   */
  bind(client: Queryable, ctx?: Omit<AuditContext, 'client'>): Promise<void>
  /** Installs the triggers on an app table: every insert, update and delete gets an audit row (idempotent). */
  track(table: string): Promise<void>
  /** Removes the triggers `track()` installed. */
  untrack(table: string): Promise<void>
  /** With `chain: true`: checks the hash chain; `firstBad` is the first altered or missing row. */
  verify(opts?: VerifyOptions): Promise<VerifyResult>
  /** With `chain: true`: the hash of the newest chained row (keep it elsewhere, pass it as `anchor` later). */
  head(): Promise<string | null>
}
