// Bench server `bare` of the `metrics` group: Fastify and the 51 routes, no metrics.
import Fastify from 'fastify'
import { serve } from '../lib/serve.js'
import { registerMetricsRoutes } from './metrics-routes.js'

const app = Fastify({ logger: false })
registerMetricsRoutes(app)
await serve(app)
