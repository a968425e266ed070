import type { FastifyRequest } from 'fastify'
import type { Actor } from '@opskit/core'

const ID = /^[A-Za-z0-9._@-]{1,64}$/
const ROLES = new Set(['admin', 'staff', 'guest'])

/**
 * The example's auth hook: the actor comes from `x-user-id` / `x-user-role` / `x-user-email`, as an
 * API gateway that has already verified the caller would send them. Replace it with your own
 * verification (a JWT, a session lookup) in a real service; everything downstream (rate-limit tiers,
 * audit rows, security events, log fields) only sees the returned actor.
 */
export function resolveActorFromHeaders(request: FastifyRequest): Actor | null {
  const id = request.headers['x-user-id']
  if (typeof id !== 'string' || !ID.test(id)) return null
  const role = request.headers['x-user-role']
  const email = request.headers['x-user-email']
  const actor: Actor = { id, role: typeof role === 'string' && ROLES.has(role) ? role : 'guest' }
  if (typeof email === 'string' && email.length <= 254 && email.includes('@')) actor.email = email
  return actor
}
