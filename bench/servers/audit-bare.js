// Bench server `bare` of the `audit` group: Fastify + @opskit/core, no audit at all.
import Fastify from 'fastify'
import { opskitCore } from '../../packages/core/dist/index.js'
import { serve } from '../lib/serve.js'
import { resolveActor } from './audit-shared.js'

const app = Fastify({ logger: false })
await app.register(opskitCore, { resolveActor })
app.get('/bookings/:id', async (request) => ({ id: request.params.id, status: 'confirmed' }))
await serve(app)
