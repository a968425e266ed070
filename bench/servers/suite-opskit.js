// Bench server `opskit-suite` of the `suite` group: Fastify + the whole opskit suite from one
// register: core, logging (request completed lines to a file only), metrics, health, memory
// rate limit (huge max, nothing rejected), security-log and audit (embedded PGlite), CORS.
import { createServer } from 'node:http'
import Fastify from 'fastify'
import { loadConfig, opskit, serverOptions } from '../../packages/suite/dist/index.js'
import { logFile, serve } from '../lib/serve.js'
import { BENCH_CORS_ORIGINS, registerSuiteRoutes } from './suite-routes.js'

// OTEL_SINK=1 (trace-context group): ENABLE_OPENTELEMETRY=true, spans exported to a local sink
// that answers every POST /v1/traces with 200.
let otelEnv = {}
if (process.env.OTEL_SINK === '1') {
  const sink = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end())
  })
  await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve))
  sink.unref()
  otelEnv = { ENABLE_OPENTELEMETRY: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.address().port}` }
}

const config = loadConfig({
  ...otelEnv,
  APP_NAME: 'bench',
  LOG_LEVEL: 'info',
  LOG_FILE: await logFile('opskit-suite'),
  CORS_ORIGINS: BENCH_CORS_ORIGINS.join(','),
  RATE_LIMIT_REQUESTS: '1000000000',
  RATE_LIMIT_PERIOD: '60',
})

// SUITE_OFF=metrics,logging… turns parts off (used by suite-cpu-cost.js to attribute the cost).
const off = Object.fromEntries((process.env.SUITE_OFF ?? '').split(',').filter(Boolean).map((part) => [part, false]))

const app = Fastify(serverOptions(config, { stdout: false }))
await app.register(opskit, { config, ...off })
// EMPTY_HOOKS=N (suite-cpu-cost.js, SUITE_CPU_EMPTY_HOOKS): N empty hooks more, half onRequest and
// half onResponse: what one Fastify hook costs a request, the most that fusing hooks can save.
const emptyHooks = Number(process.env.EMPTY_HOOKS ?? 0)
for (let i = 0; i < emptyHooks; i++) {
  app.addHook(i % 2 === 0 ? 'onRequest' : 'onResponse', function emptyHook(_request, _reply, done) {
    done()
  })
}
registerSuiteRoutes(app)

await serve(app)
