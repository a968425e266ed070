import type { FastifyInstance, FastifyPluginAsync, onRequestHookHandler, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { MetricsApi } from '@opskit/metrics'
import { createRouteLimiter, type LimiterState } from './limiter.js'
import { MemorySlidingStore, MemoryStore } from './memory-store.js'
import { isExemptPath, resolveOptions, resolveRoutePolicies, type OpskitRateLimitOptions, type Policy, type ResolvedOptions, type RoutePolicyOptions, type RouteRateLimitOptions } from './options.js'
import { createRedisClient, RedisStore } from './redis-store.js'
import type { CounterStore } from './store.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `false` exempts the route; an object gives it its own limits (and its own counters); an array
     * gives it several named policies, each applied (a request is rejected when any is exhausted).
     */
    rateLimit?: RouteRateLimitOptions | RoutePolicyOptions[] | false
  }
}

/** How long register() waits for the Redis connection before carrying on (down = fail open/closed). */
const REDIS_STARTUP_WAIT_MS = 1000

function openStore(options: ResolvedOptions, fastify: FastifyInstance): CounterStore {
  const { redis } = options
  const { algorithm } = options
  if (redis === undefined) return algorithm === 'sliding' ? new MemorySlidingStore(options.cache) : new MemoryStore(options.cache)
  if (typeof redis === 'string') {
    const client = createRedisClient(redis, options.redisTimeoutMs)
    // The client reconnects on its own; requests report the outage (once), this only keeps the
    // 'error' events from being unhandled.
    client.on('error', (err: Error) => fastify.log.debug({ err }, 'rate-limit Redis connection error'))
    return new RedisStore(client, { keyPrefix: options.keyPrefix, timeoutMs: options.redisTimeoutMs, owned: true, algorithm })
  }
  if (redis.status === 'wait') redis.connect().catch(() => {})
  return new RedisStore(redis, { keyPrefix: options.keyPrefix, timeoutMs: options.redisTimeoutMs, owned: false, algorithm })
}

function routeNamespace(routeOptions: RouteOptions): string {
  const method = Array.isArray(routeOptions.method) ? routeOptions.method.join(',') : routeOptions.method
  // HEAD is GET without a body: one budget for both.
  return `${method === 'HEAD' ? 'GET' : method}:${routeOptions.url}|`
}

function appendOnRequest(routeOptions: RouteOptions, hook: onRequestHookHandler): void {
  const existing = routeOptions.onRequest
  if (Array.isArray(existing)) routeOptions.onRequest = [...existing, hook]
  else if (typeof existing === 'function') routeOptions.onRequest = [existing, hook]
  else routeOptions.onRequest = [hook]
}

const plugin: FastifyPluginAsync<OpskitRateLimitOptions> = async (fastify, opts) => {
  const options = resolveOptions(opts)
  if (!options.enabled) {
    fastify.log.info('@opskit/rate-limit: disabled (enabled: false), no request is limited')
    return
  }

  const store = openStore(options, fastify)
  const state: LimiterState = {
    store,
    failOpen: options.failOpen,
    allowList: options.allowList,
    ipv6Subnet: options.ipv6Subnet,
    log: fastify.log,
    headers: options.headers,
    shadow: options.shadow,
    now: () => Date.now(),
    storeDown: false,
    rejections: null,
    shadowRejections: null,
    storeErrors: null,
    securityLog: false,
  }
  // The plugin's own policy, named after the tier that applies; its routes share one counter per key.
  const globalPolicy: Policy = { name: undefined, max: options.max, timeWindow: options.timeWindow, tiers: options.tiers, namespace: '' }
  const globalPolicies = [globalPolicy]
  const draft = options.headers !== 'x-ratelimit'

  // Route-level onRequest hooks run after every application-level one, so the limiter always sees
  // the actor that @opskit/core's resolveActor set, even an async one.
  fastify.addHook('onRoute', (routeOptions) => {
    const config = routeOptions.config?.rateLimit
    if (config === false) return
    if (config === undefined || config === null) {
      if (isExemptPath(routeOptions.url, options.exemptPaths)) return
      appendOnRequest(routeOptions, createRouteLimiter(state, globalPolicies, routeOptions.url))
      return
    }
    const policies = resolveRoutePolicies(config, globalPolicy, `${String(routeOptions.method)} ${routeOptions.url}`, routeOptions.url, routeNamespace(routeOptions), draft)
    appendOnRequest(routeOptions, createRouteLimiter(state, policies, routeOptions.url))
  })

  fastify.addHook('onReady', function onReady(done) {
    if (fastify.hasDecorator('metrics')) {
      // @opskit/metrics is an optional peer: only its type is imported, the decorator is read at run time.
      const metrics = fastify.getDecorator<MetricsApi>('metrics')
      state.rejections = metrics.counter({
        name: 'rate_limit_rejections_total',
        help: 'Requests rejected with 429 by the rate limiter',
        labelNames: ['route'],
      })
      if (options.shadow) {
        state.shadowRejections = metrics.counter({
          name: 'rate_limit_shadow_rejections_total',
          help: 'Requests past the limit let through by the rate limiter in shadow mode',
          labelNames: ['route'],
        })
      }
      state.storeErrors = metrics.counter({
        name: 'rate_limit_store_errors_total',
        help: 'Rate-limit store calls that failed or timed out',
      })
    }
    state.securityLog = fastify.hasDecorator('securityLog') && fastify.hasRequestDecorator('securityEvent')
    done()
  })

  fastify.addHook('onClose', async () => {
    await store.close()
  })

  // Let the connection come up so the first requests are counted, but never block start-up on a
  // Redis that is down: it is then handled like an outage (fail open or 503).
  if (store instanceof RedisStore) await store.waitUntilSettled(REDIS_STARTUP_WAIT_MS)
}

/** Rate limiting on @fastify/rate-limit's store and keying: actor tiers, Redis-shared budgets, fail-open. */
export const opskitRateLimit = fp(plugin, {
  fastify: '5.x',
  name: '@opskit/rate-limit',
  dependencies: ['@opskit/core'],
})
export default opskitRateLimit
