import type { FastifyContextConfig, FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { addOpskitHook, ERROR_RESPONSE_SCHEMA } from '@opskit/core'
import { Gauge, Registry } from 'prom-client'
import { createScrapeAuth } from './bearer-auth.js'
import { registerDefaultMetrics } from './default-metrics.js'
import { HttpSeriesTable, UNMATCHED_ROUTE } from './http-metrics.js'
import { jobMetrics } from './job-metrics.js'
import type { RouteSeries } from './http-metrics.js'
import { createMetricsApi } from './metrics-api.js'
import type { MetricsApi } from './metrics-api.js'
import { FST_OPSKIT_METRICS_INVALID_OPTION } from './errors.js'
import { resolveOptions } from './options.js'
import type { OpskitMetricsOptions } from './options.js'
import { renderOpenMetrics, wantsOpenMetrics } from './openmetrics.js'
import { renderMetrics } from './scrape.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Prometheus metrics of this instance: its registry and get-or-create helpers. */
    metrics: MetricsApi
  }
  interface FastifyContextConfig {
    /** `false`: this route is left out of the HTTP metrics (the scrape endpoint is, by default). */
    metrics?: boolean
  }
}

// Marks the route-level hook this plugin adds, so a HEAD route copied from a GET route (which
// carries the GET's hooks) is not counted twice.
const kRouteHook = Symbol('opskit.metrics.routeHook')
type MarkedHook = ((request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void) & { [kRouteHook]?: true }

function hasOwnHook(hooks: unknown): boolean {
  if (typeof hooks === 'function') return (hooks as MarkedHook)[kRouteHook] === true
  return Array.isArray(hooks) && hooks.some((hook) => typeof hook === 'function' && (hook as MarkedHook)[kRouteHook] === true)
}

/** The trace of a request (set by `@opskit/core`), for its bucket's exemplar. */
function traceIdOf(request: FastifyRequest): string | undefined {
  return request.opskitContext?.traceId
}

// Async so that an invalid option rejects register() (a sync throw in a callback plugin hangs avvio).
const plugin: FastifyPluginAsync<OpskitMetricsOptions> = async (fastify, opts) => {
  const options = resolveOptions(opts)
  const { prefix, endpoint } = options
  const registry = options.registry ?? new Registry()

  const taken = registry.getSingleMetric(`${prefix}http_requests_total`)
  if (taken !== undefined) {
    throw new FST_OPSKIT_METRICS_INVALID_OPTION('registry', `already holds ${prefix}http_requests_total: give each Fastify instance its own registry (or its own prefix)`)
  }
  if (options.defaultMetrics) registerDefaultMetrics(registry, prefix)

  const table = new HttpSeriesTable(options.buckets)
  table.register(registry, prefix)
  const unmatched = table.route(UNMATCHED_ROUTE)

  // Plain numbers on the hot path; the gauge reads them at scrape time.
  const state = { inFlight: 0 }
  const inFlightName = `${prefix}http_requests_in_flight`
  const inFlightGauge = new Gauge({
    name: inFlightName,
    help: 'HTTP requests being served right now.',
    registers: [],
    collect() {
      this.set(state.inFlight)
    },
  })
  registry.registerMetric(inFlightGauge)

  const api = createMetricsApi(registry, prefix, fastify.log)
  fastify.decorate('metrics', api)
  // Jobs run inside this instance's requests (or given `{ app }`, or run outside any request).
  const removeJobMetrics = fastify.hasDecorator('opskitJobs') ? fastify.opskitJobs.add(jobMetrics(api)) : undefined

  // In flight from routing until the response closes. `close` fires once per response, also when
  // the client went away before an answer (when no `onResponse` ever runs), so the gauge never creeps.
  function onResponseClosed(): void {
    state.inFlight--
  }

  function onRequest(_request: FastifyRequest, reply: FastifyReply): void {
    state.inFlight++
    reply.raw.on('close', onResponseClosed)
  }

  // Runs for every request: matched routes are recorded by their own route-level hook (no lookup),
  // requests that matched no route all land in the one `unmatched` series.
  function onResponse(request: FastifyRequest, reply: FastifyReply): void {
    if (request.is404) table.record(unmatched, request.method, reply.statusCode, reply.elapsedTime, traceIdOf(request))
  }

  // One hook per phase with the other opskit plugins when core is registered on this instance.
  addOpskitHook(fastify, 'onRequest', onRequest)
  addOpskitHook(fastify, 'onResponse', onResponse)

  fastify.addHook('onRoute', (routeOptions: RouteOptions) => {
    const enabled = routeOptions.config?.metrics
    if (enabled !== undefined && typeof enabled !== 'boolean') {
      throw new FST_OPSKIT_METRICS_INVALID_OPTION(`config.metrics of ${String(routeOptions.method)} ${routeOptions.url}`, 'expected a boolean')
    }
    if (enabled === false || hasOwnHook(routeOptions.onResponse)) return
    const series: RouteSeries = table.route(routeOptions.url)
    const recordRoute: MarkedHook = (request, reply, done) => {
      table.record(series, request.method, reply.statusCode, reply.elapsedTime, traceIdOf(request))
      done()
    }
    recordRoute[kRouteHook] = true
    const existing = routeOptions.onResponse
    routeOptions.onResponse = existing === undefined ? [recordRoute] : Array.isArray(existing) ? [...existing, recordRoute] : [existing, recordRoute]
  })

  if (endpoint !== false) {
    const isAuthorized = options.bearerToken === undefined ? undefined : createScrapeAuth({ token: options.bearerToken, registry, prefix, log: fastify.log })
    fastify.route({
      method: 'GET',
      url: endpoint,
      // Scrapes are not HTTP traffic of the service: left out of the RED metrics, never rate limited,
      // and a refused scrape is no security event (see createScrapeAuth).
      config: { metrics: false, rateLimit: false, securityLog: false } as FastifyContextConfig,
      logLevel: 'warn',
      // 200 is Prometheus text; only the refusal is JSON.
      schema: { response: { 401: ERROR_RESPONSE_SCHEMA } },
      async handler(request, reply) {
        if (isAuthorized !== undefined && !isAuthorized(request)) {
          reply.code(401).header('www-authenticate', 'Bearer realm="metrics"')
          return { statusCode: 401, error: 'Unauthorized', message: 'A valid bearer token is required to read metrics' }
        }
        reply.header('vary', 'accept')
        if (wantsOpenMetrics(request.headers.accept)) {
          const body = await renderOpenMetrics(registry)
          reply.header('content-type', Registry.OPENMETRICS_CONTENT_TYPE)
          return body
        }
        const body = await renderMetrics(registry, inFlightName)
        reply.header('content-type', registry.contentType)
        return body
      },
    })
  }

  fastify.addHook('onClose', (_instance, done) => {
    removeJobMetrics?.()
    // A registry this plugin made dies with the instance; a registry the caller passed is theirs.
    if (options.registry === undefined) registry.clear()
    done()
  })
}

/** Prometheus metrics for Fastify: RED metrics by route template, a registry per instance, `fastify.metrics` helpers. */
export const opskitMetrics = fp(plugin, { fastify: '5.x', name: '@opskit/metrics', dependencies: ['@opskit/core'] })
export default opskitMetrics
