// Bench server `opskit-rate-limit-memory-sliding` of the `rate-limit` group: as
// `opskit-rate-limit-memory`, with `algorithm: 'sliding'` (the sliding-window counter in memory).
import Fastify from 'fastify'
import { opskitCore } from '../../packages/core/dist/index.js'
import { opskitRateLimit } from '../../packages/rate-limit/dist/index.js'
import { serve } from '../lib/serve.js'

const app = Fastify({ logger: false })
await app.register(opskitCore, { resolveActor: () => null })
await app.register(opskitRateLimit, { max: 1e9, tiers: { admin: 1e9, anonymous: 1e9 }, algorithm: 'sliding' })
app.get('/hello', async () => ({ hello: 'world' }))
await serve(app)
