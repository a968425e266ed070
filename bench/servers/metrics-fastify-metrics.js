// Bench server `fastify-metrics` of the `metrics` group: the same routes + fastify-metrics with its
// defaults (route metrics and process metrics on), endpoint /metrics.
import Fastify from 'fastify'
import fastifyMetrics from 'fastify-metrics'
import { serve } from '../lib/serve.js'
import { registerMetricsRoutes } from './metrics-routes.js'

const app = Fastify({ logger: false })
await app.register(fastifyMetrics.default ?? fastifyMetrics, { endpoint: '/metrics' })
registerMetricsRoutes(app)
await serve(app)
