import Fastify from 'fastify'
import { opskitCore } from '@opskit/core'
import { createLogger, fastifyLoggingOptions, opskitLogging } from '@opskit/logging'
import { opskitMetrics } from '@opskit/metrics'
import { opskitOutbound } from '@opskit/outbound'

const app = Fastify(fastifyLoggingOptions(createLogger()))
await app.register(opskitCore)
await app.register(opskitLogging)
await app.register(opskitMetrics)
await app.register(opskitOutbound, {
  services: { payments: 'api.stripe.com', inventory: /^inventory\.internal$/ },
  propagate: [/\.internal$/], // x-request-id and traceparent go to our own services only
  ignore: ['otel-collector.internal:4318'],
})
app.get('/orders/:id', async (request) => {
  const res = await fetch(`http://inventory.internal/items/${(request.params as { id: string }).id}`)
  return res.json()
})
await app.listen({ port: 3000 })
