// Bench server `bare` of the `logging` group: Fastify without a logger.
import Fastify from 'fastify'
import { serve } from '../lib/serve.js'

const app = Fastify({ logger: false })
app.get('/hello', async () => ({ hello: 'world' }))
await serve(app)
