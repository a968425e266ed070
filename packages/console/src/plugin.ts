import type { FastifyContextConfig, FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { AuditApi } from '@opskit/audit'
import type { HealthApi } from '@opskit/health'
import type { MetricsApi } from '@opskit/metrics'
import type { SecurityLogApi } from '@opskit/security-log'
import { addOpskitHook } from '@opskit/core'
import { assertAuthorized } from '@opskit/store'
import { readAlerts, type AlertsSource } from './alerts-view.js'
import { readAppMetrics, type AppMetric } from './app-gauges.js'
import { FST_OPSKIT_CONSOLE_PART_MISSING } from './errors.js'
import { HealthWatcher } from './health-view.js'
import { resolveOptions, type OpskitConsoleOptions } from './options.js'
import { buildPage } from './page.js'
import { SlowRequests } from './slow-requests.js'
import { SAMPLE_EVERY_MS, takeSnapshot, TrafficRing } from './traffic-ring.js'

/** The parts of the console, each present when its plugin is registered. */
export interface ConsoleParts {
  health: boolean
  traffic: boolean
  slowest: boolean
  audit: boolean
  securityEvents: boolean
  rateLimits: boolean
  alerts: boolean
  gauges: boolean
}

// Console traffic is not the service's traffic: left out of the RED metrics and rate limits.
const ROUTE_CONFIG = { metrics: false, rateLimit: false } as FastifyContextConfig

function noop(): void {}

const consolePlugin: FastifyPluginAsync<OpskitConsoleOptions> = async (fastify, opts) => {
  const options = resolveOptions(opts)
  const { prefix, authorize } = options
  if (authorize === undefined) {
    fastify.log.warn({ plugin: '@opskit/console' }, `@opskit/console: no authorize option, so ${prefix} is not registered (the console is never public by accident)`)
    return
  }
  const page = await buildPage({ prefix, refreshMs: options.refreshMs, title: options.title })

  const ring = new TrafficRing()
  const slow = options.slowRequests > 0 ? new SlowRequests(options.slowRequests) : null
  // One onResponse hook with the other opskit plugins when core is registered on this instance.
  if (slow !== null) addOpskitHook(fastify, 'onResponse', (request, reply) => slow.onResponse(request, reply, noop))

  let timer: NodeJS.Timeout | null = null
  let health: HealthWatcher | null = null
  let gaugeCache: { at: number; value: Promise<AppMetric[]> } | null = null

  const metricsOf = (app: FastifyInstance): MetricsApi | null => (app.hasDecorator('metrics') ? app.getDecorator<MetricsApi>('metrics') : null)
  const hasRejections = (metrics: MetricsApi | null): boolean => metrics?.registry.getSingleMetric(`${metrics.prefix}rate_limit_rejections_total`) !== undefined

  function parts(): ConsoleParts {
    const metrics = metricsOf(fastify)
    return {
      health: fastify.hasDecorator('health'),
      traffic: metrics !== null,
      slowest: slow !== null,
      audit: fastify.hasDecorator('audit'),
      securityEvents: fastify.hasDecorator('securityLog'),
      rateLimits: hasRejections(metrics),
      alerts: fastify.hasDecorator('alerts'),
      gauges: metrics !== null,
    }
  }

  fastify.addHook('onReady', async () => {
    const metrics = metricsOf(fastify)
    if (fastify.hasDecorator('health')) health = new HealthWatcher(fastify.getDecorator<HealthApi>('health'), options.healthCacheMs)
    if (metrics !== null) ring.push(await takeSnapshot(metrics))
    // One timer for both: a minute of the registry into the ring, and the slow list's next minute.
    timer = setInterval(() => {
      slow?.rotate()
      if (metrics !== null) {
        takeSnapshot(metrics).then(
          (snapshot) => ring.push(snapshot),
          (err: unknown) => fastify.log.warn({ err }, '@opskit/console: reading the metrics registry failed'),
        )
      }
    }, SAMPLE_EVERY_MS)
    timer.unref()
  })
  fastify.addHook('onClose', async () => {
    if (timer !== null) clearInterval(timer)
    timer = null
  })

  function need(present: boolean, what: string): void {
    if (!present) throw new FST_OPSKIT_CONSOLE_PART_MISSING(what)
  }

  await fastify.register(async (scope) => {
    scope.addHook('onRequest', async (request: FastifyRequest) => {
      await assertAuthorized(request, authorize, `GET ${prefix}`)
    })

    scope.get(prefix, { config: ROUTE_CONFIG }, async (_request, reply) => {
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', page.contentSecurityPolicy)
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
      return page.html
    })

    // The page polls these: WARN level keeps them out of the `request completed` lines.
    const api = { config: ROUTE_CONFIG, logLevel: 'warn' as const }

    scope.get(`${prefix}/api/parts`, api, async () => ({ title: options.title, refresh_ms: options.refreshMs, parts: parts() }))

    scope.get(`${prefix}/api/health`, api, async () => {
      need(health !== null, '@opskit/health')
      return (health as HealthWatcher).read()
    })

    scope.get(`${prefix}/api/traffic`, api, async () => {
      const metrics = metricsOf(fastify)
      need(metrics !== null, '@opskit/metrics')
      const live = await takeSnapshot(metrics as MetricsApi)
      return { minutes: ring.minutes(live), routes: ring.routes(live) }
    })

    scope.get(`${prefix}/api/slowest`, api, async () => {
      need(slow !== null, 'the slow-request list (slowRequests: 0)')
      return { items: (slow as SlowRequests).list() }
    })

    scope.get(`${prefix}/api/audit`, api, async (request) => {
      need(fastify.hasDecorator('audit'), '@opskit/audit')
      return fastify.getDecorator<AuditApi>('audit').query(request.query as Record<string, string>)
    })

    scope.get(`${prefix}/api/security-events`, api, async (request) => {
      need(fastify.hasDecorator('securityLog'), '@opskit/security-log')
      return fastify.getDecorator<SecurityLogApi>('securityLog').query(request.query as Record<string, unknown>)
    })

    scope.get(`${prefix}/api/rate-limits`, api, async () => {
      const metrics = metricsOf(fastify)
      need(hasRejections(metrics), '@opskit/rate-limit (with @opskit/metrics)')
      return { routes: ring.rejections(await takeSnapshot(metrics as MetricsApi)) }
    })

    scope.get(`${prefix}/api/alerts`, api, async () => {
      need(fastify.hasDecorator('alerts'), '@opskit/alerts')
      return readAlerts(fastify.getDecorator<AlertsSource>('alerts'))
    })

    scope.get(`${prefix}/api/gauges`, api, async () => {
      const metrics = metricsOf(fastify)
      need(metrics !== null, '@opskit/metrics')
      const now = Date.now()
      if (gaugeCache === null || now - gaugeCache.at >= options.healthCacheMs) {
        const value = readAppMetrics(metrics as MetricsApi)
        gaugeCache = { at: now, value }
        value.catch(() => {
          if (gaugeCache?.value === value) gaugeCache = null
        })
      }
      return { metrics: await gaugeCache.value }
    })
  })
}

/** The ops console: one self-contained page and its JSON API under `prefix`, behind `authorize`. */
export const opskitConsole = fp(consolePlugin, {
  fastify: '5.x',
  name: '@opskit/console',
  dependencies: ['@opskit/core'],
})
export default opskitConsole
