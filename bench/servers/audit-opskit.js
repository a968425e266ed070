// Bench server `opskit-audit` / `opskit-audit-fire-and-forget` of the `audit` group: @opskit/audit
// with its defaults (group commit, 2 INSERTs in flight), one event per request with before/after
// (diff, redaction, summary). AUDIT_AWAIT=1 awaits the committed row before answering; 0 does not.
import Fastify from 'fastify'
import pg from 'pg'
import { opskitCore } from '../../packages/core/dist/index.js'
import { opskitAudit } from '../../packages/audit/dist/index.js'
import { serve } from '../lib/serve.js'
import { DATABASE_URL, eventFor, resolveActor, table } from './audit-shared.js'

const awaitRow = process.env.AUDIT_AWAIT !== '0'
const app = Fastify({ logger: { level: 'error' } })
await app.register(opskitCore, { resolveActor })
await app.register(opskitAudit, { connection: DATABASE_URL ?? { embedded: {} }, table })
app.get('/bookings/:id', awaitRow
  ? async (request) => {
    await request.audit(eventFor(request.params.id))
    return { id: request.params.id, status: 'confirmed' }
  }
  : async (request) => {
    request.audit(eventFor(request.params.id))
    return { id: request.params.id, status: 'confirmed' }
  })
app.addHook('onClose', async () => {
  if (DATABASE_URL === undefined) return
  // Runs before the plugin's own onClose flush: wait for it, then drop the table.
  await app.audit.flush()
  const pool = new pg.Pool({ connectionString: DATABASE_URL })
  await pool.query(`DROP TABLE IF EXISTS ${table}`)
  await pool.end()
})
await serve(app)
