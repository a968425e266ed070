// Bench server `opskit-suite` of the `suite` group: Fastify + the whole opskit suite from one
// register: core, logging (request completed lines to a file only), metrics, health, memory
// rate limit (huge max, nothing rejected), security-log and audit (embedded PGlite), CORS.
import Fastify from 'fastify'
import { loadConfig, opskit, serverOptions } from '../../packages/suite/dist/index.js'
import { BENCH_CORS_ORIGINS, benchLogFile, registerSuiteRoutes } from './suite-routes.js'

const config = loadConfig({
  APP_NAME: 'bench',
  LOG_LEVEL: 'info',
  LOG_FILE: await benchLogFile('opskit-suite'),
  CORS_ORIGINS: BENCH_CORS_ORIGINS.join(','),
  RATE_LIMIT_REQUESTS: '1000000000',
  RATE_LIMIT_PERIOD: '60',
})

const app = Fastify(serverOptions(config, { stdout: false }))
await app.register(opskit, { config })
registerSuiteRoutes(app)

await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
console.log('ready')

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
}
