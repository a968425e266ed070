import type { FastifyPluginAsync } from 'fastify'
import { timingSafeEqual } from 'node:crypto'
import type {} from '@opskit/suite'

/** Demo accounts. A real service checks a password hash in its user table. */
const USERS: Record<string, { id: string; role: string; password: string }> = {
  'admin@example.com': { id: 'u-admin', role: 'admin', password: 'admin-password' },
  'staff@example.com': { id: 'u-staff', role: 'staff', password: 'staff-password' },
}

function samePassword(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

const loginBody = {
  type: 'object',
  required: ['email', 'password'],
  additionalProperties: false,
  properties: { email: { type: 'string', maxLength: 254 }, password: { type: 'string', maxLength: 256 } },
} as const

/**
 * `POST /login`: records `login_success` or `login_failure` (repeated failures from one IP become
 * one `suspicious_activity`), audits the successful login, and is rate-limited to 5 tries a minute
 * per client (one budget across instances when `REDIS_URL` is set). `securityLog: false` turns auto
 * capture off for this route: a failed login is one `login_failure`, not also a `token_invalid` for its 401.
 */
export const loginRoute: FastifyPluginAsync = async (app) => {
  app.post<{ Body: { email: string; password: string } }>(
    '/login',
    { schema: { body: loginBody }, config: { rateLimit: { max: 5, timeWindow: '1 minute' }, securityLog: false } },
    async (request, reply) => {
      const { email, password } = request.body
      const user = USERS[email.toLowerCase()]
      if (user === undefined || !samePassword(password, user.password)) {
        void request.securityEvent('login_failure', {
          email,
          ...(user !== undefined ? { userId: user.id } : {}),
          details: { reason: user === undefined ? 'unknown_user' : 'bad_password' },
        })
        return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'Invalid e-mail or password' })
      }
      request.setActor({ id: user.id, role: user.role, email })
      void request.securityEvent('login_success', { userId: user.id, email })
      await request.audit({ action: 'login', entityType: 'user', entityId: user.id, entityName: email })
      // The example's auth hook reads these headers; a real service would issue a token here.
      return { user: { id: user.id, role: user.role, email }, headers: { 'x-user-id': user.id, 'x-user-role': user.role, 'x-user-email': email } }
    },
  )
}
