// Bench server `opskit-rate-limit-redis` of the `rate-limit` group: @opskit/core + @opskit/rate-limit
// with its Redis store (REDIS_URL, default redis://127.0.0.1:6379): one EVALSHA per request.
// RATE_LIMIT_ALGORITHM=sliding runs the sliding window (default fixed).
import Fastify from 'fastify'
import { opskitCore } from '../../packages/core/dist/index.js'
import { opskitRateLimit } from '../../packages/rate-limit/dist/index.js'
import { serve } from '../lib/serve.js'

const app = Fastify({ logger: false })
await app.register(opskitCore, { resolveActor: () => null })
await app.register(opskitRateLimit, {
  max: 1e9,
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  keyPrefix: `opskit:bench:rate-limit:${process.pid}:`,
  failOpen: false, // a store failure shows up as non-2xx in the report instead of hiding in the numbers
  algorithm: process.env.RATE_LIMIT_ALGORITHM === 'sliding' ? 'sliding' : 'fixed',
})
app.get('/hello', async () => ({ hello: 'world' }))
await serve(app)
