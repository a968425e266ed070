// The bookings API on the whole opskit suite, with embedded defaults: no PostgreSQL, no Redis.
// `pnpm start` builds the repository and runs this file on PORT (default 3000).
//
//   curl localhost:3000/health/ready
//   curl -H 'content-type: application/json' -d '{"email":"staff@example.com","password":"staff-password"}' localhost:3000/login
//   curl -H 'x-user-id: u-staff' -H 'content-type: application/json' \
//        -d '{"guest":"Ada","room":"12","nights":2}' localhost:3000/bookings
//   curl -H 'x-user-id: u-admin' -H 'x-user-role: admin' localhost:3000/audit
//   open http://localhost:3000/ops in a browser on this machine (or send x-ops-key: $OPS_KEY)
import { buildServer } from './app.js'

const app = await buildServer()

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info({ signal }, 'shutting down')
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  })
}

await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '0.0.0.0' })
