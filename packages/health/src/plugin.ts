import type { FastifyContextConfig, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { CheckRegistry } from './check-registry.js'
import { resolveOptions } from './options.js'
import { liveSchema, oneSchema, readySchema } from './route-schemas.js'
import type { OpskitHealthOptions } from './options.js'
import { publishHealthMetrics } from './health-metrics.js'
import type { MetricsApi } from '@opskit/metrics'
import type { HealthApi } from './types.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Readiness checks of this instance: add one, or run them all. */
    health: HealthApi
  }
}

const SHUTTING_DOWN = JSON.stringify({ status: 'shutting_down' })

/**
 * Whether this Fastify answers every request with its own 503 once `close()` starts
 * (`return503OnClosing`, default `true`). Fastify keeps the option only in its constructor options,
 * under a private symbol (it is not in `initialConfig`), so it is read from there; when that cannot
 * be found the default is assumed.
 */
function fastifyReturns503OnClosing(fastify: object): boolean {
  for (let o: object | null = fastify; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const key = Object.getOwnPropertySymbols(o).find((symbol) => symbol.description === 'fastify.options')
    if (key !== undefined) return (o as Record<symbol, { return503OnClosing?: boolean } | undefined>)[key]?.return503OnClosing !== false
  }
  return true
}

// Async so that an invalid option rejects register() instead of hanging avvio.
const plugin: FastifyPluginAsync<OpskitHealthOptions> = async (fastify, opts) => {
  const options = resolveOptions(opts)
  const { prefix, version } = options
  const registry = new CheckRegistry({ timeoutMs: options.timeoutMs, cacheMs: options.cacheMs })
  for (const name of Object.keys(options.checks)) registry.register(name, options.checks[name] as never)

  const state = { shuttingDown: false }
  const api: HealthApi = {
    register: (name, check) => registry.register(name, check),
    run: () => registry.run(),
    runCheck: (name) => registry.runCheck(name),
    get shuttingDown() {
      return state.shuttingDown
    },
  }
  fastify.decorate('health', api)

  // Liveness: the process answers. Never touches a dependency.
  function liveBody(): string {
    return JSON.stringify({ status: 'ok', version, uptime_s: Math.floor(process.uptime()) })
  }
  function live(_request: FastifyRequest, reply: FastifyReply): void {
    reply.header('content-type', 'application/json; charset=utf-8').send(liveBody())
  }

  async function ready(_request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    if (state.shuttingDown) {
      reply.code(503).header('content-type', 'application/json; charset=utf-8')
      return SHUTTING_DOWN
    }
    const report = await registry.run()
    // Shutdown may have started while the checks ran.
    if (state.shuttingDown) {
      reply.code(503).header('content-type', 'application/json; charset=utf-8')
      return SHUTTING_DOWN
    }
    reply.code(report.status === 'error' ? 503 : 200)
    return report
  }

  async function one(request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply): Promise<unknown> {
    const run = registry.runCheck(request.params.name)
    if (run === undefined) {
      reply.code(404)
      return { statusCode: 404, error: 'Not Found', message: `No health check named "${request.params.name.slice(0, 64)}"` }
    }
    const result = await run
    reply.code(result.status === 'ok' ? 200 : 503)
    return result
  }

  // Probes are never rate limited; the logging plugin leaves /health and /health/* out by path.
  // `rateLimit` is @opskit/rate-limit's route switch; this package does not load its type augmentation.
  const config = { rateLimit: false } as FastifyContextConfig
  const base = prefix === '/' ? '' : prefix
  fastify.get(prefix, { config, schema: liveSchema }, live)
  fastify.get(`${base}/live`, { config, schema: liveSchema }, live)
  fastify.get(`${base}/ready`, { config, schema: readySchema }, ready)
  fastify.get(`${base}/:name`, { config, schema: oneSchema }, one)

  fastify.addHook('onReady', function publishMetrics(done) {
    // `fastify.metrics` comes from @opskit/metrics when it is registered (an optional peer: only its type is imported).
    if (fastify.hasDecorator('metrics')) publishHealthMetrics(fastify.getDecorator<MetricsApi>('metrics'), registry)
    done()
  })

  if (options.shutdownDelayMs > 0 && fastifyReturns503OnClosing(fastify)) {
    fastify.log.warn(
      { shutdown_delay_ms: options.shutdownDelayMs },
      'health: shutdownDelayMs is set but Fastify was created with return503OnClosing on (its default): during the drain every route, ' +
        '/health/ready included, gets Fastify\'s own 503 instead of {"status":"shutting_down"}. Create Fastify with return503OnClosing: false ' +
        '(serverOptions() from @opskit/suite does).',
    )
  }

  // preClose runs as soon as close() starts, before Fastify calls server.close(): readiness turns
  // 503 `shutting_down`, and for shutdownDelayMs the server keeps accepting connections and serving
  // every route (with return503OnClosing: false), so the load balancer sees the 503 and drains this
  // instance before the listener closes. In-flight requests finish either way. close() awaits the
  // delay timer, so it is not unref()'d.
  fastify.addHook('preClose', async function drain() {
    state.shuttingDown = true
    if (options.shutdownDelayMs === 0 || !fastify.server.listening) return
    fastify.log.info({ shutdown_delay_ms: options.shutdownDelayMs }, 'health: readiness is shutting_down; waiting before the server stops accepting')
    await new Promise<void>((resolve) => setTimeout(resolve, options.shutdownDelayMs))
  })

  fastify.addHook('onClose', async () => {
    await registry.close()
  })

}

/** Liveness, readiness and per-check health endpoints with timeouts, caching and graceful shutdown. */
// No `dependencies`: health reads none of core's decorators (it works with or without core).
export const opskitHealth = fp(plugin, { fastify: '5.x', name: '@opskit/health' })
export default opskitHealth
