// Bench server `opskit-rate-limit-memory` of the `rate-limit` group: @opskit/core + @opskit/rate-limit
// with its in-memory store (tiers on, keyed by IP for this anonymous traffic), `max` so high nothing
// is rejected.
import Fastify from 'fastify'
import { opskitCore } from '../../packages/core/dist/index.js'
import { opskitRateLimit } from '../../packages/rate-limit/dist/index.js'
import { serve } from '../lib/serve.js'

const app = Fastify({ logger: false })
await app.register(opskitCore, { resolveActor: () => null })
await app.register(opskitRateLimit, { max: 1e9, tiers: { admin: 1e9, anonymous: 1e9 } })
app.get('/hello', async () => ({ hello: 'world' }))
await serve(app)
