// Bench server `opskit-metrics` of the `metrics` group: the same routes + @opskit/core + @opskit/metrics
// with its defaults (process metrics on, /metrics endpoint).
import Fastify from 'fastify'
import { opskitCore } from '../../packages/core/dist/index.js'
import { opskitMetrics } from '../../packages/metrics/dist/index.js'
import { serve } from '../lib/serve.js'
import { registerMetricsRoutes } from './metrics-routes.js'

const app = Fastify({ logger: false })
await app.register(opskitCore)
await app.register(opskitMetrics)
registerMetricsRoutes(app)
await serve(app)
