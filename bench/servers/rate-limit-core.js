// Bench server `core` of the `rate-limit` group: Fastify + @opskit/core (request id, actor,
// context), which every opskit limiter needs: the base the opskit limiter's own cost adds to.
import Fastify from 'fastify'
import { opskitCore } from '../../packages/core/dist/index.js'
import { serve } from '../lib/serve.js'

const app = Fastify({ logger: false })
await app.register(opskitCore, { resolveActor: () => null })
app.get('/hello', async () => ({ hello: 'world' }))
await serve(app)
