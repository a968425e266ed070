// Bench server `bare` of the `suite` group: Fastify with no logger and no plugins, serving the
// group's routes. The baseline every other server is compared with.
import Fastify from 'fastify'
import { registerSuiteRoutes } from './suite-routes.js'

const app = Fastify({ logger: false })
registerSuiteRoutes(app)

await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
console.log('ready')

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
}
