import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { CheckRegistry } from './check-registry.js'
import { resolveOptions } from './options.js'
import type { OpskitHealthOptions } from './options.js'
import { publishHealthMetrics } from './health-metrics.js'
import type { MetricsHelpers } from './health-metrics.js'
import { installShutdownGate } from './shutdown-gate.js'
import type { HealthApi } from './types.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Readiness checks of this instance: add one, or run them all. */
    health: HealthApi
  }
}

const SHUTTING_DOWN = JSON.stringify({ status: 'shutting_down' })

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
  const config = { rateLimit: false as const }
  const base = prefix === '/' ? '' : prefix
  fastify.get(prefix, { config }, live)
  fastify.get(`${base}/live`, { config }, live)
  fastify.get(`${base}/ready`, { config }, ready)
  fastify.get(`${base}/:name`, { config }, one)

  fastify.addHook('onReady', function publishMetrics(done) {
    // `fastify.metrics` comes from @opskit/metrics when it is registered; this package does not depend on it.
    if (fastify.hasDecorator('metrics')) publishHealthMetrics((fastify as unknown as { metrics: MetricsHelpers }).metrics, registry)
    done()
  })

  // preClose runs as soon as close() starts, before the server stops accepting: readiness turns
  // 503 `shutting_down` so the load balancer drains this instance while in-flight requests finish.
  fastify.addHook('preClose', function drain(done) {
    state.shuttingDown = true
    if (fastify.server.listening) installShutdownGate(fastify.server, { ready: `${base}/ready`, live: [prefix, `${base}/live`] }, SHUTTING_DOWN, liveBody)
    if (options.shutdownDelayMs === 0) {
      done()
      return
    }
    fastify.log.info({ shutdown_delay_ms: options.shutdownDelayMs }, 'health: readiness is shutting_down; waiting before the server stops accepting')
    setTimeout(done, options.shutdownDelayMs).unref()
  })

  fastify.addHook('onClose', async () => {
    await registry.close()
  })

}

/** Liveness, readiness and per-check health endpoints with timeouts, caching and graceful shutdown. */
export const opskitHealth = fp(plugin, { fastify: '5.x', name: '@opskit/health', dependencies: ['@opskit/core'] })
export default opskitHealth
