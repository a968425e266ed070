import type { FastifyRequest } from 'fastify'

/** Who is making the request. Set by `resolveActor` or `request.setActor()`. */
export interface Actor {
  id: string
  role?: string
  tenantId?: string
  email?: string
}

/** What every opskit plugin knows about the current request, from anywhere in its async flow. */
export interface RequestContext {
  requestId: string
  actor: Actor | null
  ip: string
  userAgent: string | undefined
  method: string
  /** The raw URL path without the query string. */
  url: string
  /** The route template (`/bookings/:id`); undefined when no route matched. */
  route?: string
  /** 32 lowercase hex digits: the active OpenTelemetry span's trace, else a valid incoming `traceparent`'s. */
  traceId?: string
  /** 16 lowercase hex digits: the active span's id, else a fresh id for this request under the incoming trace. */
  spanId?: string
  /** Inside `runJob()`: the job's name. */
  job?: string
  /** Inside `runJob()`: the job's id (the same value as `requestId`). */
  jobId?: string
  /** A job started inside a request (or inside a job that was): that request's id. */
  parentRequestId?: string
  /** A job started inside another job: the enclosing job's id. */
  parentJobId?: string
}

export type ResolveActor = (request: FastifyRequest) => Actor | null | undefined | Promise<Actor | null | undefined>

export interface OpskitCoreOptions {
  /** Header that carries the request id in and out. Default `'x-request-id'`. */
  requestIdHeader?: string
  /** Runs in an `onRequest` hook; its result becomes `request.actor`. */
  resolveActor?: ResolveActor
}
