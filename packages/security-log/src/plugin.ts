import { addOpskitHook, contextOf, getRequestContext } from '@opskit/core'
import { openDatabase, registerListRoute, Spool } from '@opskit/store'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { createAutoCapture, rememberAction } from './auto-capture.js'
import { FST_OPSKIT_SECURITY_LOG_INVALID_OPTION } from './errors.js'
import { resolveOptions } from './options.js'
import type { SecurityLogOptions } from './options.js'
import { contextFromRequest } from './record.js'
import type { SecurityEventOptions, SecurityRecord } from './record.js'
import { LIST_SPEC, SecurityLog } from './security-log.js'
import type { SecurityLogApi } from './security-log.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** `{ record, query, flush, migrate, table }` from `@opskit/security-log`. */
    securityLog: SecurityLogApi
  }
  interface FastifyRequest {
    /**
     * Records a security event with this request's context (ip, user agent, path, request id,
     * actor). Resolves with the stored row once committed; a call nobody awaits never causes an
     * unhandled rejection (failures are logged).
     */
    securityEvent(action: string, opts?: SecurityEventOptions): Promise<SecurityRecord>
  }
  interface FastifyContextConfig {
    /** `false`: no auto-captured events for this route (events recorded explicitly still are). */
    securityLog?: boolean
  }
}

function checkRouteConfig(route: RouteOptions): void {
  const value = (route.config as { securityLog?: unknown } | undefined)?.securityLog
  if (value !== undefined && typeof value !== 'boolean') {
    throw new FST_OPSKIT_SECURITY_LOG_INVALID_OPTION(`config.securityLog of ${route.method} ${route.url}`, 'expected true or false')
  }
}

const plugin: FastifyPluginAsync<SecurityLogOptions> = async (fastify, opts) => {
  const options = resolveOptions(opts)
  const logger = fastify.log

  let redis: Redis | undefined
  let ownsRedis = false
  if (typeof options.redis === 'string') {
    if (options.abuse !== undefined) {
      redis = new Redis(options.redis, { maxRetriesPerRequest: 1 })
      ownsRedis = true
      // Failures surface (once per outage) where counting fails; the connection keeps retrying.
      redis.on('error', noop)
    }
  } else {
    redis = options.redis
  }

  const spool = options.spool === undefined ? undefined : await Spool.open(options.spool, `security-log-${options.table}`)
  const db = await openDatabase(options.connection, { logger, pkg: '@opskit/security-log' })
  const engine = new SecurityLog(db, options, logger, redis, spool)
  try {
    if (options.migrate) await engine.migrate()
    await engine.replaySpool()
  } catch (err) {
    await engine.close().catch(noop)
    await db.close().catch(noop)
    if (ownsRedis) redis?.disconnect()
    throw err
  }

  const api: SecurityLogApi = {
    table: options.table,
    record: (event, context) => {
      if (context !== undefined) return engine.record(event, context)
      const current = getRequestContext()
      // Inside a request, auto capture must not record the same action again for its response.
      if (current !== undefined && typeof event?.action === 'string') rememberAction(current, event.action)
      return engine.record(event, contextFromRequest(current))
    },
    query: (filters) => engine.query(filters),
    flush: () => engine.flush(),
    migrate: () => engine.migrate(),
  }
  fastify.decorate('securityLog', api)

  fastify.decorateRequest('securityEvent', function securityEvent(this: FastifyRequest, action: string, eventOpts?: SecurityEventOptions) {
    const context = contextOf(this)
    if (typeof action === 'string') rememberAction(context, action)
    return engine.record({ ...eventOpts, action }, contextFromRequest(context), this.log)
  })

  const { autoCapture } = options
  if (autoCapture.unauthorized || autoCapture.forbidden || autoCapture.rateLimited || autoCapture.validation) {
    const capture = createAutoCapture(autoCapture, (request, action, statusCode, route) => {
      const context = contextOf(request)
      rememberAction(context, action)
      engine.record(
        { action, details: { method: request.method, status_code: statusCode, route } },
        contextFromRequest(context),
        request.log,
      )
    })
    // One onResponse hook with the other opskit plugins when core is registered on this instance.
    addOpskitHook(fastify, 'onResponse', (request, reply) => capture(request, reply, noop))
  }
  fastify.addHook('onRoute', checkRouteConfig)

  if (options.routes !== undefined) {
    registerListRoute(fastify, {
      prefix: options.routes.prefix,
      authorize: options.routes.authorize,
      spec: LIST_SPEC,
      list: (parsed) => engine.list(parsed),
    })
  }

  fastify.addHook('onReady', function bindMetrics(this: FastifyInstance, done) {
    engine.bindMetrics(fastify)
    done()
  })

  fastify.addHook('onClose', async () => {
    try {
      await engine.close()
    } finally {
      await db.close()
      if (ownsRedis && redis !== undefined) await quitWithin(redis, options.abuse?.redisTimeoutMs ?? 1000)
    }
  })
}

function noop(): void {}

/** QUIT, bounded: a Redis that accepts connections and never answers must not hold `fastify.close()`. */
async function quitWithin(redis: Redis, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs)
    timer.unref()
  })
  await Promise.race([redis.quit().then(noop, noop), deadline])
  clearTimeout(timer)
  redis.disconnect()
}

/** Security events: recording, auto capture of 401/403/429, abuse detection, alerts, list route. */
export const opskitSecurityLog = fp(plugin, {
  fastify: '5.x',
  name: '@opskit/security-log',
  dependencies: ['@opskit/core'],
})
export default opskitSecurityLog
