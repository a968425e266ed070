// Bench server `opskit-suite-console` of the `console` group: the `opskit-suite` server (suite-opskit.js)
// plus the ops console (`console: { authorize }`: its slow-request onResponse hook and minute timer),
// with nobody watching the page: what the console costs a request.
import Fastify from 'fastify'
import { loadConfig, opskit, serverOptions } from '../../packages/suite/dist/index.js'
import { logFile, serve } from '../lib/serve.js'
import { BENCH_CORS_ORIGINS, registerSuiteRoutes } from './suite-routes.js'

const config = loadConfig({
  APP_NAME: 'bench',
  LOG_LEVEL: 'info',
  LOG_FILE: await logFile('opskit-suite-console'),
  CORS_ORIGINS: BENCH_CORS_ORIGINS.join(','),
  RATE_LIMIT_REQUESTS: '1000000000',
  RATE_LIMIT_PERIOD: '60',
})

// SUITE_OFF=metrics,logging… turns parts off (used by suite-cpu-cost.js to attribute the cost).
const off = Object.fromEntries((process.env.SUITE_OFF ?? '').split(',').filter(Boolean).map((part) => [part, false]))

const app = Fastify(serverOptions(config, { stdout: false }))
await app.register(opskit, { config, ...off, console: { authorize: () => true } })
registerSuiteRoutes(app)

await serve(app)
