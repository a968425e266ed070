import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { getLogger } from '@opskit/logging'

/** A booking as the API returns it. */
export type Booking = {
  id: string
  guest: string
  room: string
  nights: number
  status: 'pending' | 'confirmed' | 'cancelled'
  createdBy: string | null
  createdAt: string
}

const log = getLogger('bookings')

/**
 * The "service layer", in memory. Far from the handlers, its log lines still carry `request_id`
 * and `user_id` (the request context follows the async flow).
 */
export class BookingStore {
  private readonly bookings = new Map<string, Booking>()

  async list(): Promise<Booking[]> {
    return [...this.bookings.values()]
  }

  async get(id: string): Promise<Booking | undefined> {
    const booking = this.bookings.get(id)
    return booking === undefined ? undefined : { ...booking }
  }

  async create(input: { guest: string; room: string; nights: number }, createdBy: string | null): Promise<Booking> {
    const booking: Booking = { id: randomUUID(), ...input, status: 'pending', createdBy, createdAt: new Date().toISOString() }
    this.bookings.set(booking.id, booking)
    log.info({ booking_id: booking.id }, 'booking created')
    return { ...booking }
  }

  async update(id: string, patch: Partial<Pick<Booking, 'status' | 'nights'>>): Promise<Booking | undefined> {
    const booking = this.bookings.get(id)
    if (booking === undefined) return undefined
    Object.assign(booking, patch)
    log.info({ booking_id: id, fields: Object.keys(patch) }, 'booking updated')
    return { ...booking }
  }

  async remove(id: string): Promise<Booking | undefined> {
    const booking = this.bookings.get(id)
    if (booking !== undefined) this.bookings.delete(id)
    return booking
  }
}

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const
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

const notFound = (reply: FastifyReply) => reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'No such booking' })

/** Every booking route needs a signed-in actor: 401 otherwise (recorded as `token_invalid`), once the
 * limiter has counted the request (past the limit an anonymous flood gets 429). */
async function requireActor(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.actor === null) {
    await reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'Send x-user-id (see POST /login)' })
  }
}

/** Which audit action a status change is: confirm, cancel, or a plain update. */
function actionOf(before: Booking, after: Booking): string {
  if (after.status !== before.status && after.status === 'confirmed') return 'confirm'
  if (after.status !== before.status && after.status === 'cancelled') return 'cancel'
  return 'update'
}

/** Bookings CRUD. Every write is audited: who, what changed (before → after), from where. */
export const bookingRoutes: FastifyPluginAsync<{ store: BookingStore }> = async (app, { store }) => {
  // preValidation, not onRequest: @opskit/rate-limit counts in a route-level onRequest hook, which
  // runs after every app-level onRequest hook. An auth check there would answer 401 before the
  // limiter, so an anonymous flood would never be limited and every 401 would be a security row.
  app.addHook('preValidation', requireActor)

  app.get('/bookings', async () => ({ items: await store.list() }))

  app.get<{ Params: { id: string } }>('/bookings/:id', { schema: { params: idParams } }, async (request, reply) => {
    return (await store.get(request.params.id)) ?? notFound(reply)
  })

  app.post<{ Body: { guest: string; room: string; nights: number } }>('/bookings', { schema: { body: createBody } }, async (request, reply) => {
    const booking = await store.create(request.body, request.actor?.id ?? null)
    await request.audit({ action: 'create', entityType: 'booking', entityId: booking.id, entityName: `${booking.guest} / room ${booking.room}`, after: booking })
    return reply.code(201).send(booking)
  })

  app.patch<{ Params: { id: string }; Body: { status?: Booking['status']; nights?: number } }>(
    '/bookings/:id',
    { schema: { params: idParams, body: updateBody } },
    async (request, reply) => {
      const before = await store.get(request.params.id)
      if (before === undefined) return notFound(reply)
      const after = (await store.update(before.id, request.body))!
      await request.audit({ action: actionOf(before, after), entityType: 'booking', entityId: after.id, before, after })
      return after
    },
  )

  app.delete<{ Params: { id: string } }>('/bookings/:id', { schema: { params: idParams } }, async (request, reply) => {
    if (request.actor?.role !== 'admin') {
      // Recorded as `authz_denied` by security-log's auto capture.
      return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'Only admins delete bookings' })
    }
    const removed = await store.remove(request.params.id)
    if (removed === undefined) return notFound(reply)
    await request.audit({ action: 'delete', entityType: 'booking', entityId: removed.id, before: removed })
    return reply.code(204).send()
  })
}
