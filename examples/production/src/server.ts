// The bookings API against PostgreSQL and Redis: what examples/basic does, ready for several
// instances behind a load balancer. Needs DATABASE_URL and REDIS_URL (see README.md).
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379 \
//   METRICS_TOKEN=change-me PORT=3001 node examples/production/dist/server.js
import Fastify from 'fastify'
import { loadConfig, opskit, serverOptions } from '@opskit/suite'
import { bookingRoutes } from './bookings.js'
import { resolveActorFromHeaders } from './auth.js'
import { loginRoute } from './login.js'

const config = loadConfig()
if (config.databaseUrl === undefined || config.redisUrl === undefined) {
  console.error('examples/production needs DATABASE_URL and REDIS_URL (examples/basic runs without them)')
  process.exit(1)
}

const app = Fastify({
  ...serverOptions(config),
  // Behind a load balancer: take the client IP from X-Forwarded-For sent by these proxies only.
  ...(process.env.TRUST_PROXY !== undefined ? { trustProxy: process.env.TRUST_PROXY } : {}),
})

const isAdmin = (request: { actor: { role?: string } | null }): boolean => request.actor?.role === 'admin'

await app.register(opskit, {
  config,
  core: { resolveActor: resolveActorFromHeaders },
  audit: { routes: { authorize: isAdmin } },
  securityLog: {
    routes: { authorize: isAdmin },
    abuse: { windowMs: 10 * 60_000, thresholds: { login_failure: 10, authz_denied: 20 } },
  },
})
await app.register(loginRoute)
await app.register(bookingRoutes, { pool: app.opskit.pool! })

const shutdown = (signal: string): void => {
  app.log.info(`${signal} received, draining`)
  app.close().then(
    () => process.exit(0),
    (err: unknown) => {
      app.log.error({ err }, 'error while closing')
      process.exit(1)
    },
  )
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)

await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '0.0.0.0' })
