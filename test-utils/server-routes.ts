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

/**
 * The names of the `phase` hooks Fastify runs for `GET <path>` (from `printRoutes({ includeHooks })`),
 * in order: for asserting how many hooks a plugin adds, and whose.
 */
export function hookNames(instance: FastifyInstance, phase: string, path: string): string[] {
  const printed = instance.printRoutes({ includeHooks: true, commonPrefix: false }).split('\n')
  let i = printed.findIndex((l) => l.endsWith(` ${path} (GET)`)) + 1
  for (; i > 0 && i < printed.length && (printed[i] as string).includes('• ('); i++) {
    const line = printed[i] as string
    if (line.includes(`• (${phase}) `)) return (JSON.parse(line.slice(line.indexOf('['))) as string[]).map((name) => name.replace(/\(\)$/, ''))
  }
  return []
}
