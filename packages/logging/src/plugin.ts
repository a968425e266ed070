import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { addOpskitHook, contextOf, type JobObserver } from '@opskit/core'
import type { Logger } from 'pino'
import { errorSource } from './caller-source.js'
import { flushLogger, isOpskitLogger } from './create-logger.js'
import { RequestCompletedFields } from './line-format.js'
import { resolvePluginOptions, type OpskitLoggingOptions, type ResolvedPluginOptions } from './options.js'
import { releaseRootLogger, setRootLogger } from './root-logger.js'
import { contextSym, serverLoggerSym, type MarkedContext, type MarkedRequestLog } from './symbols.js'

interface ResourceStart {
  cpu: NodeJS.CpuUsage
  rss: number
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `@opskit/logging` when resource tracking is on for this request. */
    opskitResourceStart: ResourceStart | null
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000
}

/**
 * Writes `job started` (DEBUG), `job completed` (INFO, `duration_ms`) and `job failed` (ERROR,
 * `duration_ms`, `err`, `source` = where the error was thrown) for the jobs (`runJob()`) of this instance, inside the job's context, so
 * the lines carry `job` and `job_id` like every other line of the job. Inside a job, `getLogger()`
 * derives from this instance's logger.
 */
function jobLines(log: Logger, opskitLogger: boolean): JobObserver {
  // A logger that is not ours does not read the context: the job is named explicitly.
  const fieldsOf = (name: string, id: string): Record<string, unknown> => (opskitLogger ? {} : { job: name, job_id: id })
  return {
    jobStarted(job) {
      if (opskitLogger) (job.context as MarkedContext)[serverLoggerSym] = log
      log.debug(fieldsOf(job.name, job.id), 'job started')
    },
    jobEnded(job, result) {
      const fields = fieldsOf(job.name, job.id)
      fields.duration_ms = round3(result.durationMs)
      if (result.status === 'ok') {
        log.info(fields, 'job completed')
      } else {
        fields.err = result.error
        // Where the job threw (the caller of this line is core's runJob, which says nothing).
        const source = errorSource(result.error)
        if (source !== undefined) fields.source = source
        log.error(fields, 'job failed')
      }
    },
  }
}

const plugin: FastifyPluginCallback<OpskitLoggingOptions> = (fastify, opts, next) => {
  let options: ResolvedPluginOptions
  try {
    options = resolvePluginOptions(opts)
  } catch (err) {
    next(err as Error)
    return
  }
  const { exact, prefixes, tracking, level } = options
  const serverLog = fastify.log as unknown as Logger
  const opskitLogger = isOpskitLogger(serverLog)
  if (opskitLogger) setRootLogger(serverLog)
  const debugCheck = typeof serverLog.isLevelEnabled === 'function'
  const removeJobLines = fastify.hasDecorator('opskitJobs') ? fastify.opskitJobs.add(jobLines(serverLog, opskitLogger)) : undefined

  function ignored(path: string): boolean {
    if (exact.has(path)) return true
    for (let i = 0; i < prefixes.length; i++) if (path.startsWith(prefixes[i] as string)) return true
    return false
  }

  fastify.decorateRequest('opskitResourceStart', null)

  function onRequest(request: FastifyRequest): void {
    const context = request.opskitContext
    if (opskitLogger && context !== null) {
      ;(request.log as MarkedRequestLog)[contextSym] = context
      ;(context as MarkedContext)[serverLoggerSym] = serverLog
    }
    if (tracking !== undefined) {
      const value = request.headers[tracking.header]
      if ((value === '1' || value === 'true') && tracking.allow(request) === true) {
        request.opskitResourceStart = { cpu: process.cpuUsage(), rss: process.memoryUsage.rss() }
      }
    }
    if (debugCheck && (request.log as unknown as Logger).isLevelEnabled('debug') && !ignored(context?.url ?? request.url)) {
      request.log.debug({ method: request.method, path: context?.url ?? request.url }, 'request received')
    }
  }

  function onResponse(request: FastifyRequest, reply: FastifyReply): void {
    // Everything comes from the context core built in onRequest (no `request.routeOptions`, a
    // getter that builds an object per access).
    const context = contextOf(request)
    const path = context.url
    if (ignored(path)) return
    const status = reply.statusCode
    const start = request.opskitResourceStart
    let line: RequestCompletedFields | Record<string, unknown>
    if (opskitLogger && start === null) {
      // The common line: one shape, which an opskit logger writes with fixed keys.
      line = new RequestCompletedFields(context.method, path, context.route, status, round3(reply.elapsedTime), context.ip, context.userAgent)
    } else {
      const fields: Record<string, unknown> = {
        method: context.method,
        path,
        route: context.route,
        status_code: status,
        duration_ms: round3(reply.elapsedTime),
        ip: context.ip,
        user_agent: context.userAgent,
      }
      if (!opskitLogger) {
        // A logger that is not ours does not read the request context: name the request explicitly.
        fields.request_id = request.id
        fields.user_id = request.actor?.id
      }
      if (start !== null) {
        const cpu = process.cpuUsage(start.cpu)
        fields.cpu_user_ms = round3(cpu.user / 1000)
        fields.cpu_system_ms = round3(cpu.system / 1000)
        fields.rss_delta_bytes = process.memoryUsage.rss() - start.rss
      }
      line = fields
    }
    if (status >= 500) request.log.error(line, 'request completed')
    else request.log[level](line, 'request completed')
  }

  // One hook per phase with the other opskit plugins when core is registered on this instance.
  addOpskitHook(fastify, 'onRequest', onRequest)
  addOpskitHook(fastify, 'onResponse', onResponse)
  fastify.addHook('onClose', (_instance, done) => {
    removeJobLines?.()
    if (!opskitLogger) {
      done()
      return
    }
    releaseRootLogger(serverLog)
    flushLogger(serverLog).then(() => done(), done)
  })
  next()
}

/**
 * Request logging for Fastify: one `request completed` line per request (INFO, ERROR for 5xx)
 * with method, path, route, status, duration, ip, user agent, request and user ids; `request
 * received` at DEBUG; optional per-request CPU/memory figures. Needs `@opskit/core`.
 */
export const opskitLogging = fp(plugin, {
  fastify: '5.x',
  name: '@opskit/logging',
  dependencies: ['@opskit/core'],
})
export default opskitLogging
