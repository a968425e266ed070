// A small items API on Fastify with @opskit/core (request ids, actor, request context) and
// @opskit/logging (structured, redacted JSON lines; one `request completed` line per request).
//
//   pnpm start                         # builds, then listens on PORT or 3000
//   curl -H 'x-user-id: u1' -H 'x-user-role: admin' -X POST localhost:3000/items \
//        -H 'content-type: application/json' -d '{"name":"lamp","price":12}'
import { randomUUID } from 'node:crypto'
import { opskitCore, type Actor } from '@opskit/core'
import { createLogger, fastifyLoggingOptions, getLogger, opskitLogging } from '@opskit/logging'
import Fastify, { type FastifyRequest } from 'fastify'

interface Item {
  id: string
  name: string
  price: number
  createdBy: string | null
}

const log = getLogger('items')

/** The "service layer": far from the handler, its lines still carry request_id and user_id. */
class ItemStore {
  private readonly items = new Map<string, Item>()

  async create(input: { name: string; price: number }, actor: Actor | null): Promise<Item> {
    const item: Item = { id: randomUUID(), name: input.name, price: input.price, createdBy: actor?.id ?? null }
    this.items.set(item.id, item)
    log.info({ item_id: item.id }, 'item created')
    return item
  }

  async list(): Promise<Item[]> {
    return [...this.items.values()]
  }

  async get(id: string): Promise<Item | undefined> {
    return this.items.get(id)
  }

  async update(id: string, patch: Partial<Pick<Item, 'name' | 'price'>>): Promise<Item | undefined> {
    const item = this.items.get(id)
    if (item === undefined) return undefined
    Object.assign(item, patch)
    log.info({ item_id: id, fields: Object.keys(patch) }, 'item updated')
    return item
  }

  async remove(id: string): Promise<boolean> {
    const removed = this.items.delete(id)
    if (removed) log.warn({ item_id: id }, 'item deleted')
    return removed
  }
}

/** Demo authentication: trusts `x-user-id` / `x-user-role`. Replace with real token checks. */
function resolveActor(request: FastifyRequest): Actor | null {
  const id = request.headers['x-user-id']
  if (typeof id !== 'string' || id === '') return null
  const role = request.headers['x-user-role']
  return { id, role: typeof role === 'string' ? role : 'member' }
}

const itemBody = {
  type: 'object',
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, price: { type: 'number', minimum: 0 } },
} as const
const idParams = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as const

export async function buildServer() {
  const app = Fastify(fastifyLoggingOptions(createLogger({ name: 'example-basic' })))
  await app.register(opskitCore, { resolveActor })
  await app.register(opskitLogging)

  const store = new ItemStore()

  app.get('/health', async () => ({ status: 'ok' }))

  app.get('/items', async () => ({ items: await store.list() }))

  app.get<{ Params: { id: string } }>('/items/:id', { schema: { params: idParams } }, async (request, reply) => {
    const item = await store.get(request.params.id)
    return item ?? reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'item not found' })
  })

  app.post<{ Body: { name: string; price: number } }>(
    '/items',
    { schema: { body: { ...itemBody, required: ['name', 'price'] } } },
    async (request, reply) => {
      if (request.actor === null) return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'x-user-id required' })
      return reply.code(201).send(await store.create(request.body, request.actor))
    },
  )

  app.put<{ Params: { id: string }; Body: { name?: string; price?: number } }>(
    '/items/:id',
    { schema: { params: idParams, body: itemBody } },
    async (request, reply) => {
      if (request.actor === null) return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'x-user-id required' })
      const item = await store.update(request.params.id, request.body)
      return item ?? reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'item not found' })
    },
  )

  app.delete<{ Params: { id: string } }>('/items/:id', { schema: { params: idParams } }, async (request, reply) => {
    if (request.actor?.role !== 'admin') return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'admins only' })
    const removed = await store.remove(request.params.id)
    return removed ? reply.code(204).send() : reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'item not found' })
  })

  return app
}

const app = await buildServer()
await app.listen({ port: Number(process.env.PORT ?? 3000), host: '0.0.0.0' })

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info({ signal }, 'shutting down')
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  })
}
