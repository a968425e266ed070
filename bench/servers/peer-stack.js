// Bench server `peer-stack` of the `suite` group: what a team assembles without opskit.
// Fastify's default pino request logging (two lines per request) to a file, fastify-metrics,
// @fastify/rate-limit (huge max, nothing rejected), @fastify/under-pressure and @fastify/cors.
import Fastify from 'fastify'
import fastifyMetrics from 'fastify-metrics'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import cors from '@fastify/cors'
import { BENCH_CORS_ORIGINS, benchLogFile, registerSuiteRoutes } from './suite-routes.js'

const app = Fastify({ logger: { level: 'info', file: await benchLogFile('peer-stack') } })
await app.register(fastifyMetrics, { endpoint: '/metrics' })
await app.register(underPressure, {
  maxEventLoopDelay: 1000,
  maxHeapUsedBytes: 1_000_000_000,
  maxRssBytes: 2_000_000_000,
  exposeStatusRoute: '/health',
})
await app.register(cors, {
  origin: BENCH_CORS_ORIGINS,
  exposedHeaders: ['x-request-id', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'],
})
await app.register(rateLimit, { max: 1_000_000_000, timeWindow: 60_000 })
registerSuiteRoutes(app)

await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
console.log('ready')

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
}
