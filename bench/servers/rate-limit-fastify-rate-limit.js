// Bench server `fastify-rate-limit` of the `rate-limit` group: @fastify/rate-limit registered
// directly with its defaults (in-memory LRU store, keyed by IP), `max` so high nothing is rejected.
import Fastify from 'fastify'
import fastifyRateLimit from '@fastify/rate-limit'
import { serve } from '../lib/serve.js'

const app = Fastify({ logger: false })
await app.register(fastifyRateLimit, { max: 1e9 })
app.get('/hello', async () => ({ hello: 'world' }))
await serve(app)
