import pg from 'pg'
import { sanitizeHeader, type RequestContext } from '@opskit/core'
import { storableIp, storableJson, type Queryable } from '@opskit/store'
import { AuditBindError } from './errors.js'
import type { AuditContext } from './types.js'

/** The one statement `bind()` runs: the context as JSON, local to the caller's transaction. */
export const BIND_SQL = "SELECT set_config('opskit.ctx', $1, true)"

/**
 * The JSON the triggers read through `current_setting('opskit.ctx', true)`: who and where, from
 * `ctx` first, else the request context. Cleaned as `request.audit()` cleans its row (an address
 * `inet` refuses becomes null, headers bounded), so the triggers can never fail the caller's write
 * on it. Empty when there is no context at all (the triggers then record a null actor).
 */
export function contextJson(request: RequestContext | undefined, ctx: Omit<AuditContext, 'client'> | undefined): string {
  const actor = ctx?.actor !== undefined ? ctx.actor : (request?.actor ?? null)
  const ip = ctx?.ip !== undefined ? ctx.ip : (request?.ip ?? null)
  const userAgent = ctx?.userAgent !== undefined ? ctx.userAgent : (request?.userAgent ?? null)
  const path = ctx?.path !== undefined ? ctx.path : (request?.url ?? null)
  const requestId = ctx?.requestId !== undefined ? ctx.requestId : (request?.requestId ?? null)
  if (request === undefined && ctx === undefined) return ''
  return storableJson({
    user_id: actor?.id ?? null,
    user_email: actor?.email ?? null,
    ip: storableIp(ip),
    user_agent: userAgent == null ? null : (sanitizeHeader(userAgent) ?? null),
    path: path == null ? null : (sanitizeHeader(path, 2048) ?? null),
    request_id: requestId == null ? null : (sanitizeHeader(requestId, 128) ?? null),
    // Only a validated id reaches the context (32 lowercase hex), so it is stored as it is.
    trace_id: request?.traceId ?? null,
  }).text
}

/** `fastify.audit.bind(client, ctx?)`: one `set_config(..., true)` on the caller's transaction. */
export async function bindContext(client: Queryable, request: RequestContext | undefined, ctx?: Omit<AuditContext, 'client'>): Promise<void> {
  if (client === null || typeof client !== 'object' || typeof client.query !== 'function') {
    throw new AuditBindError('bind(client) expects a pg client (or PGlite transaction) inside a transaction')
  }
  // On a pool (or the PGlite instance itself) each query is its own transaction: the binding would
  // be gone before the next statement, and the writes recorded without their actor.
  const maybe = client as { transaction?: unknown; totalCount?: unknown }
  if (client instanceof pg.Pool || typeof maybe.totalCount === 'number' || typeof maybe.transaction === 'function') {
    throw new AuditBindError('bind() needs the client of your transaction (pool.connect() + BEGIN, or PGlite\'s transaction()), not the pool / database itself')
  }
  await client.query(BIND_SQL, [contextJson(request, ctx)])
}
