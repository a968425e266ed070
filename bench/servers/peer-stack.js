// Bench server `peer-stack` of the `suite` group: what a team assembles without opskit.
// Fastify's default pino request logging (two lines per request) to a file, fastify-metrics,
// @fastify/rate-limit (huge max, nothing rejected), @fastify/under-pressure and @fastify/cors.
import Fastify from 'fastify'
import fastifyMetrics from 'fastify-metrics'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import cors from '@fastify/cors'
import { logFile, serve } from '../lib/serve.js'
import { BENCH_CORS_ORIGINS, registerSuiteRoutes } from './suite-routes.js'

const app = Fastify({ logger: { level: 'info', file: await logFile('peer-stack') } })
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

await serve(app)
