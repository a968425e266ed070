// The routes every server of the `suite` bench group serves, so each one does the same work.
const ITEMS = new Map(
  Array.from({ length: 100 }, (_, i) => [String(i), { id: String(i), name: `item ${i}`, price: i * 3 }]),
)

const itemSchema = {
  params: { type: 'object', properties: { id: { type: 'string', maxLength: 16 } }, required: ['id'] },
  response: {
    200: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, price: { type: 'number' } } },
  },
}

/** `GET /hello` and `GET /items/:id` (a Map lookup with a response schema). */
export function registerSuiteRoutes(app) {
  app.get('/hello', async () => ({ hello: 'world' }))
  app.get('/items/:id', { schema: itemSchema }, async (request, reply) => {
    const item = ITEMS.get(request.params.id)
    if (item === undefined) return reply.code(404).send({ message: 'not found' })
    return item
  })
}

/** The CORS origins both stacks allow. */
export const BENCH_CORS_ORIGINS = ['https://app.example.com']
