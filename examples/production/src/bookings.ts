import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type pg from 'pg'

/** A booking as the API returns it. */
type Booking = {
  id: string
  guest: string
  room: string
  nights: number
  status: string
  created_by: string | null
  created_at: string
}

const TABLE_SQL = `CREATE TABLE IF NOT EXISTS example_bookings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  guest text NOT NULL,
  room text NOT NULL,
  nights integer NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now()
)`
const COLUMNS = 'id::text AS id, guest, room, nights, status, created_by, created_at'
const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: UUID } } } as const
const createBody = {
  type: 'object',
  required: ['guest', 'room', 'nights'],
  additionalProperties: false,
  properties: {
    guest: { type: 'string', minLength: 1, maxLength: 200 },
    room: { type: 'string', minLength: 1, maxLength: 20 },
    nights: { type: 'integer', minimum: 1, maximum: 365 },
  },
} as const
const updateBody = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['pending', 'confirmed', 'cancelled'] },
    nights: { type: 'integer', minimum: 1, maximum: 365 },
  },
} as const

function toJson(row: Record<string, unknown>): Booking {
  return { ...(row as unknown as Booking), created_at: new Date(row.created_at as string).toISOString() }
}

/** Every booking route needs a signed-in actor: 401 otherwise (recorded as `token_invalid`), once the
 * limiter has counted the request (past the limit an anonymous flood gets 429). */
async function requireActor(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.actor === null) {
    await reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'Sign in first' })
  }
}

/** Runs `fn` in one transaction on one pooled client: the booking change and its audit row commit together. */
async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}

/**
 * Bookings in PostgreSQL. Writes are audited inside the same transaction (`request.audit(…, { client })`),
 * so a rolled-back change never leaves an audit row and a committed one always has one.
 */
export const bookingRoutes: FastifyPluginAsync<{ pool: pg.Pool }> = async (app, { pool }) => {
  await pool.query(TABLE_SQL)
  // preValidation, not onRequest: @opskit/rate-limit counts in a route-level onRequest hook, which
  // runs after every app-level onRequest hook. An auth check there would answer 401 before the
  // limiter, so an anonymous flood would never be limited and every 401 would be a security row.
  app.addHook('preValidation', requireActor)

  app.get('/bookings', async () => {
    const { rows } = await pool.query(`SELECT ${COLUMNS} FROM example_bookings ORDER BY created_at DESC LIMIT 100`)
    return { items: rows.map(toJson) }
  })

  app.get<{ Params: { id: string } }>('/bookings/:id', { schema: { params: idParams } }, async (request, reply) => {
    const { rows } = await pool.query(`SELECT ${COLUMNS} FROM example_bookings WHERE id = $1`, [request.params.id])
    if (rows[0] === undefined) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'No such booking' })
    return toJson(rows[0])
  })

  app.post<{ Body: { guest: string; room: string; nights: number } }>('/bookings', { schema: { body: createBody } }, async (request, reply) => {
    const { guest, room, nights } = request.body
    const booking = await inTransaction(pool, async (client) => {
      const { rows } = await client.query(
        `INSERT INTO example_bookings (guest, room, nights, created_by) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [guest, room, nights, request.actor?.id ?? null],
      )
      const created = toJson(rows[0])
      await request.audit({ action: 'create', entityType: 'booking', entityId: created.id, entityName: `${guest} / room ${room}`, after: created }, { client })
      return created
    })
    return reply.code(201).send(booking)
  })

  app.patch<{ Params: { id: string }; Body: { status?: string; nights?: number } }>(
    '/bookings/:id',
    { schema: { params: idParams, body: updateBody } },
    async (request, reply) => {
      const updated = await inTransaction(pool, async (client) => {
        const before = await client.query(`SELECT ${COLUMNS} FROM example_bookings WHERE id = $1 FOR UPDATE`, [request.params.id])
        if (before.rows[0] === undefined) return undefined
        const old = toJson(before.rows[0])
        const { rows } = await client.query(
          `UPDATE example_bookings SET status = COALESCE($2, status), nights = COALESCE($3, nights) WHERE id = $1 RETURNING ${COLUMNS}`,
          [request.params.id, request.body.status ?? null, request.body.nights ?? null],
        )
        const after = toJson(rows[0])
        const action = after.status === 'confirmed' && old.status !== 'confirmed' ? 'confirm' : after.status === 'cancelled' && old.status !== 'cancelled' ? 'cancel' : 'update'
        await request.audit({ action, entityType: 'booking', entityId: after.id, before: old, after }, { client })
        return after
      })
      if (updated === undefined) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'No such booking' })
      return updated
    },
  )

  app.delete<{ Params: { id: string } }>('/bookings/:id', { schema: { params: idParams } }, async (request, reply) => {
    if (request.actor?.role !== 'admin') {
      // Recorded as `authz_denied` by security-log's auto capture.
      return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'Only admins delete bookings' })
    }
    const deleted = await inTransaction(pool, async (client) => {
      const { rows } = await client.query(`DELETE FROM example_bookings WHERE id = $1 RETURNING ${COLUMNS}`, [request.params.id])
      if (rows[0] === undefined) return undefined
      const old = toJson(rows[0])
      await request.audit({ action: 'delete', entityType: 'booking', entityId: old.id, before: old }, { client })
      return old
    })
    if (deleted === undefined) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'No such booking' })
    return reply.code(204).send()
  })
}
