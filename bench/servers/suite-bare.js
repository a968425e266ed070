// Bench server `bare` of the `suite` group: Fastify with no logger and no plugins, serving the
// group's routes. The baseline every other server is compared with.
import Fastify from 'fastify'
import { serve } from '../lib/serve.js'
import { registerSuiteRoutes } from './suite-routes.js'

const app = Fastify({ logger: false })
registerSuiteRoutes(app)

await serve(app)
