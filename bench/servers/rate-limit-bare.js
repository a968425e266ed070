// Bench server `bare` of the `rate-limit` group: Fastify without any limiter.
import Fastify from 'fastify'
import { serve } from '../lib/serve.js'

const app = Fastify({ logger: false })
app.get('/hello', async () => ({ hello: 'world' }))
await serve(app)
