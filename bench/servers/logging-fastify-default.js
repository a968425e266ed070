// Bench server `fastify-default-logging` of the `logging` group: Fastify's built-in pino logger at
// info, writing its default request logging (incoming request + request completed, two lines per
// request) to a file.
import Fastify from 'fastify'
import { logFile, serve } from '../lib/serve.js'

const app = Fastify({ logger: { level: 'info', file: await logFile('fastify-default-logging') } })
app.get('/hello', async () => ({ hello: 'world' }))
await serve(app)
