import { addOpskitHook, getRequestContext } from '@opskit/core'
import type { RequestContext } from '@opskit/core'
import { openDatabase, registerListRoute, Spool } from '@opskit/store'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { createAutoCapture, kRecordedActions, rememberAction, wasRecorded } from './auto-capture.js'
import { FST_SECURITY_LOG_INVALID_OPTION, resolveOptions } from './options.js'
import type { SecurityLogOptions } from './options.js'
import { contextFromRequest } from './record.js'
import type { SecurityEventContext, SecurityEventOptions, SecurityRecord } from './record.js'
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

function pathOf(url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

function contextOf(request: FastifyRequest): SecurityEventContext {
  if (request.opskitContext !== null && request.opskitContext !== undefined) return contextFromRequest(request.opskitContext)
  return {
    ip: request.ip,
    userAgent: request.headers['user-agent'],
    requestPath: pathOf(request.url),
    requestId: request.id,
    userId: request.actor?.id ?? null,
    email: request.actor?.email ?? null,
  }
}

function checkRouteConfig(route: RouteOptions): void {
  const value = (route.config as { securityLog?: unknown } | undefined)?.securityLog
  if (value !== undefined && typeof value !== 'boolean') {
    throw new FST_SECURITY_LOG_INVALID_OPTION(`config.securityLog of ${route.method} ${route.url}`, 'expected true or false')
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

  // Actions that `fastify.securityLog.record()` recorded inside a request (found by its context).
  const recordedInContext = new WeakMap<RequestContext, string[]>()
  const rememberInContext = (context: RequestContext, action: string): void => {
    const seen = recordedInContext.get(context)
    if (seen === undefined) recordedInContext.set(context, [action])
    else if (!seen.includes(action)) seen.push(action)
  }
  const isRecorded = (request: FastifyRequest, action: string): boolean =>
    wasRecorded(request, action) || (recordedInContext.get(request.opskitContext)?.includes(action) ?? false)

  const api: SecurityLogApi = {
    table: options.table,
    record: (event, context) => {
      if (context !== undefined) return engine.record(event, context)
      const current = getRequestContext()
      // Inside a request, auto capture must not record the same action again for its response.
      if (current !== undefined && typeof event?.action === 'string') rememberInContext(current, event.action)
      return engine.record(event, contextFromRequest(current))
    },
    query: (filters) => engine.query(filters),
    flush: () => engine.flush(),
    migrate: () => engine.migrate(),
  }
  fastify.decorate('securityLog', api)

  fastify.decorateRequest(kRecordedActions as unknown as string, null)
  fastify.decorateRequest('securityEvent', function securityEvent(this: FastifyRequest, action: string, eventOpts?: SecurityEventOptions) {
    if (typeof action === 'string') rememberAction(this, action)
    return engine.record({ ...eventOpts, action }, contextOf(this), this.log)
  })

  const { autoCapture } = options
  if (autoCapture.unauthorized || autoCapture.forbidden || autoCapture.rateLimited || autoCapture.validation) {
    const capture = createAutoCapture(autoCapture, (request, action, statusCode, route) => {
      rememberAction(request, action)
      engine.record(
        { action, details: { method: request.method, status_code: statusCode, route } },
        contextOf(request),
        request.log,
      )
    }, isRecorded)
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
    engine.metric.bind(fastify)
    done()
  })

  fastify.addHook('onClose', async () => {
    try {
      await engine.close()
    } finally {
      await db.close()
      if (ownsRedis && redis !== undefined) await redis.quit().catch(() => redis?.disconnect())
    }
  })
}

function noop(): void {}

/** Security events: recording, auto capture of 401/403/429, abuse detection, alerts, list route. */
export const opskitSecurityLog = fp(plugin, {
  fastify: '5.x',
  name: '@opskit/security-log',
  dependencies: ['@opskit/core'],
})
export default opskitSecurityLog
