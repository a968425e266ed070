// Bench server `core` of the `metrics` group: the same routes + @opskit/core only, to split the cost
// of the request context from the cost of the metrics plugin.
import Fastify from 'fastify'
import { opskitCore } from '../../packages/core/dist/index.js'
import { serve } from '../lib/serve.js'
import { registerMetricsRoutes } from './metrics-routes.js'

const app = Fastify({ logger: false })
await app.register(opskitCore)
registerMetricsRoutes(app)
await serve(app)
