import type { FastifyRequest } from 'fastify'

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1'])

/**
 * Who may open the ops console (`/ops`) in this example:
 * - a browser on the machine itself (`request.ip` is loopback), so `pnpm start` and then
 *   http://localhost:3000/ops just works; behind a reverse proxy on the same host every request
 *   looks local: set `trustProxy` in the Fastify options, or drop this rule;
 * - a script sending `x-ops-key` equal to the `OPS_KEY` environment variable (only when it is set);
 * - an admin actor (`x-user-id` + `x-user-role: admin`), like `GET /audit`.
 */
export function canOpenConsole(request: FastifyRequest): boolean {
  if (LOOPBACK.has(request.ip)) return true
  const key = process.env.OPS_KEY
  if (key !== undefined && key.length > 0 && request.headers['x-ops-key'] === key) return true
  return request.actor?.role === 'admin'
}
