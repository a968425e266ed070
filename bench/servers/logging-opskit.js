// Bench server `opskit-logging` of the `logging` group: Fastify + @opskit/core + @opskit/logging,
// one `request completed` line per request (request id, user, route, status, duration, ip, user
// agent) written to a rotating file only (not stdout); Fastify's own request logging off.
import Fastify from 'fastify'
import { opskitCore } from '../../packages/core/dist/index.js'
import { createLogger, fastifyLoggingOptions, opskitLogging } from '../../packages/logging/dist/index.js'
import { logFile, serve } from '../lib/serve.js'

const logger = createLogger({ name: 'bench', level: 'info', format: 'json', stdout: false, file: await logFile('opskit-logging') })
const app = Fastify(fastifyLoggingOptions(logger))
await app.register(opskitCore)
await app.register(opskitLogging)
app.get('/hello', async () => ({ hello: 'world' }))
await serve(app)
