import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import type { AuditService } from './audit-service.js'
import type { AuditContext } from './types.js'

const ACTIONS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' }

/**
 * The entity a route is about: the last static segment followed by a parameter
 * (`/bookings/:id` → `bookings`, `/api/v1/bookings/:id/approve` → `bookings`), else the last static
 * segment (`/bookings` → `bookings`). The id comes from the parameter after it.
 */
export function entityOfRoute(url: string): { entityType: string; idParam: string | null } {
  const segments = url.split('/').filter((s) => s.length > 0)
  let entityType: string | null = null
  let idParam: string | null = null
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i]!
    const next = segments[i + 1]!
    if (!segment.startsWith(':') && !segment.includes('*') && next.startsWith(':')) {
      entityType = segment
      idParam = next.slice(1).replace(/\(.*$/, '').replace(/\?$/, '')
    }
  }
  if (entityType === null) {
    const statics = segments.filter((s) => !s.startsWith(':') && !s.includes('*'))
    entityType = statics.at(-1) ?? 'root'
  }
  return { entityType, idParam }
}

/** The request's context as explicit fields (recorded without marking the request as audited). */
function contextOf(request: FastifyRequest): AuditContext | undefined {
  const context = request.opskitContext
  if (context == null) return undefined
  return { actor: context.actor, ip: context.ip, userAgent: context.userAgent ?? null, path: context.url, requestId: context.requestId }
}

function ignored(url: string, ignore: string[]): boolean {
  for (const entry of ignore) {
    if (url === entry || url.startsWith(entry.endsWith('/') ? entry : `${entry}/`)) return true
  }
  return false
}

/**
 * `onRoute`: adds an `onResponse` hook to the routes auto audit covers (methods, not ignored, no
 * `config.audit === false`), so other routes pay nothing. A 2xx during which no event was recorded
 * (neither `request.audit()` nor `fastify.audit.record()`) gets a row: action from the method,
 * entity from the route, id from its parameter.
 */
export function autoAuditRoute(service: AuditService, methods: Set<string>, ignore: string[]) {
  return (route: RouteOptions): void => {
    if ((route.config as { audit?: unknown } | undefined)?.audit === false) return
    if (ignored(route.url, ignore)) return
    const routeMethods = Array.isArray(route.method) ? route.method : [route.method]
    if (!routeMethods.some((m) => methods.has(m.toUpperCase()))) return
    const { entityType, idParam } = entityOfRoute(route.url)

    function onResponse(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
      const action = ACTIONS[request.method]
      if (
        reply.statusCode >= 200 && reply.statusCode < 300 &&
        methods.has(request.method) &&
        !service.wasAudited(request.opskitContext)
      ) {
        const params = request.params as Record<string, unknown> | undefined
        const id = idParam === null ? undefined : params?.[idParam]
        service.recordIn(undefined, {
          action: action ?? request.method.toLowerCase(),
          entityType,
          entityId: typeof id === 'string' || typeof id === 'number' ? id : null,
        }, contextOf(request))
      }
      done()
    }

    const existing = route.onResponse
    route.onResponse = existing === undefined ? [onResponse] : [...(Array.isArray(existing) ? existing : [existing]), onResponse]
  }
}
