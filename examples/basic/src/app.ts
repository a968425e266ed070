import Fastify from 'fastify'
import { loadConfig, opskit, serverOptions, type OpskitConfig } from '@opskit/suite'
import { resolveActorFromHeaders } from './auth.js'
import { BookingStore, bookingRoutes } from './bookings.js'
import { loginRoute } from './login.js'
import { canOpenConsole } from './ops-access.js'

const isAdmin = (request: { actor: { role?: string } | null }): boolean => request.actor?.role === 'admin'

/**
 * The bookings API on the whole opskit suite. With no environment it runs on embedded defaults:
 * audit and security events in an in-memory PGlite, rate limits in memory. Set `DATABASE_URL` /
 * `REDIS_URL` and the same code uses PostgreSQL and Redis.
 */
export async function buildServer(config: OpskitConfig = loadConfig()) {
  const app = Fastify(serverOptions(config))
  await app.register(opskit, {
    config,
    core: { resolveActor: resolveActorFromHeaders },
    // GET /audit and GET /security/events, for admins only
    audit: { routes: { authorize: isAdmin } },
    securityLog: {
      routes: { authorize: isAdmin },
      // ten failed logins from one IP (or for one user) in ten minutes: one suspicious_activity event
      abuse: { windowMs: 10 * 60_000, thresholds: { login_failure: 10 } },
    },
    // http://localhost:3000/ops: health, traffic, slow requests, audit trail, security events
    console: { authorize: canOpenConsole },
  })

  app.get('/', async () => ({
    name: config.appName,
    try: ['GET /health', 'GET /health/ready', 'GET /metrics', 'POST /login', 'GET /bookings', 'POST /bookings', 'GET /audit', 'GET /security/events', 'GET /ops'],
  }))
  await app.register(loginRoute)
  const store = new BookingStore()
  await app.register(bookingRoutes, { store })
  // A business number beside the technical ones: on /metrics and in the console's "App metrics".
  app.metrics.gauge({
    name: 'bookings',
    help: 'Bookings by status',
    labelNames: ['status'],
    async collect() {
      this.reset()
      for (const booking of await store.list()) this.inc({ status: booking.status })
    },
  })
  return app
}
