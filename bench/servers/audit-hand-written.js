// Bench server `hand-written` of the `audit` group: what teams write without a library. One awaited
// INSERT per request on a pg.Pool (or PGlite), the changed fields computed inline, no redaction, no
// retry: the row is lost if the database hiccups.
import { PGlite } from '@electric-sql/pglite'
import Fastify from 'fastify'
import pg from 'pg'
import { opskitCore } from '../../packages/core/dist/index.js'
import { serve } from '../lib/serve.js'
import { DATABASE_URL, eventFor, resolveActor, table } from './audit-shared.js'

const db = DATABASE_URL === undefined ? await PGlite.create() : new pg.Pool({ connectionString: DATABASE_URL })
await db.query(`CREATE TABLE ${table} (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id text, user_email text, action text,
  entity_type text, entity_id text, entity_name text, old_values jsonb, new_values jsonb, changes_summary text, ip_address inet,
  user_agent text, request_path text, request_id text, created_at timestamptz NOT NULL DEFAULT now())`)

const app = Fastify({ logger: false })
await app.register(opskitCore, { resolveActor })
app.get('/bookings/:id', async (request) => {
  const { action, entityType, entityId, entityName, before, after } = eventFor(request.params.id)
  const oldValues = {}
  const newValues = {}
  for (const key of Object.keys(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      oldValues[key] = before[key]
      newValues[key] = after[key]
    }
  }
  const summary = Object.keys(newValues).map((k) => `${k}: ${JSON.stringify(oldValues[k])} → ${JSON.stringify(newValues[k])}`).join('; ')
  await db.query(
    `INSERT INTO ${table} (user_id, user_email, action, entity_type, entity_id, entity_name, old_values, new_values, changes_summary, ip_address, user_agent, request_path, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [request.actor.id, request.actor.email, action, entityType, entityId, entityName, JSON.stringify(oldValues), JSON.stringify(newValues),
      summary, request.ip, request.headers['user-agent'] ?? null, request.url, request.id],
  )
  return { id: request.params.id, status: 'confirmed' }
})
app.addHook('onClose', async () => {
  await db.query(`DROP TABLE IF EXISTS ${table}`)
  if (db instanceof PGlite) await db.close()
  else await db.end()
})
await serve(app)
