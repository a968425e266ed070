// Bench server `core+fastify-rate-limit` of the `rate-limit` group: @opskit/core plus
// @fastify/rate-limit with its defaults, the same base as the opskit servers.
import Fastify from 'fastify'
import fastifyRateLimit from '@fastify/rate-limit'
import { opskitCore } from '../../packages/core/dist/index.js'
import { serve } from '../lib/serve.js'

const app = Fastify({ logger: false })
await app.register(opskitCore, { resolveActor: () => null })
await app.register(fastifyRateLimit, { max: 1e9 })
app.get('/hello', async () => ({ hello: 'world' }))
await serve(app)
