import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify'

/**
 * A fresh Fastify instance that records every route added to it (an `onRoute` hook added first),
 * after `setup` registered plugins on it: for asserting a plugin's route options, such as
 * `config.rateLimit: false` on health and metrics routes. Close `app` when done.
 */
export async function routesAddedBy(setup: (app: FastifyInstance) => Promise<unknown>): Promise<{ app: FastifyInstance; routes: RouteOptions[] }> {
  const app = Fastify()
  const routes: RouteOptions[] = []
  app.addHook('onRoute', (route) => {
    routes.push(route)
  })
  await setup(app)
  return { app, routes }
}
