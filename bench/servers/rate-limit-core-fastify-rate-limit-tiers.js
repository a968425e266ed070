// Bench server `core+fastify-rate-limit-tiers` of the `rate-limit` group: what opskit's keying and
// tiers would cost done through @fastify/rate-limit's own hook (async keyGenerator and max function,
// errorResponseBuilder): the design @opskit/rate-limit measured and did not take.
import Fastify from 'fastify'
import fastifyRateLimit from '@fastify/rate-limit'
import { opskitCore } from '../../packages/core/dist/index.js'
import { serve } from '../lib/serve.js'

const tiers = new Map([['admin', 1e9], ['anonymous', 1e9]])
const app = Fastify({ logger: false })
await app.register(opskitCore, { resolveActor: () => null })
await app.register(fastifyRateLimit, {
  max: (request) => (request.actor ? tiers.get(request.actor.role) ?? 1e9 : tiers.get('anonymous')),
  keyGenerator: (request) => (request.actor ? `user:${request.actor.id}` : request.ip),
  errorResponseBuilder: (request, context) => ({
    statusCode: 429,
    error: 'Too Many Requests',
    message: `Rate limit exceeded, retry in ${context.after}`,
    request_id: request.id,
  }),
})
app.get('/hello', async () => ({ hello: 'world' }))
await serve(app)
