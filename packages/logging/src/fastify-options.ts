import { STATUS_CODES } from 'node:http'
import { createRequestContext, requestIdGenerator } from '@opskit/core'
import fastify, { type FastifyBaseLogger, type FastifyError, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { Logger } from 'pino'

/** The request-id log label of opskit lines. */
export const REQUEST_ID_LOG_LABEL = 'request_id'

export interface FastifyLoggingOptions {
  /** Incoming header whose valid value is reused as the request id. Default `'x-request-id'`. */
  requestIdHeader?: string
}

export type OpskitFastifyOptions = Pick<FastifyServerOptions, 'genReqId' | 'logController' | 'disableRequestLogging' | 'requestIdLogLabel'> & {
  loggerInstance: FastifyBaseLogger
  frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void
}

/**
 * Fastify's `frameworkErrors`: a URL the router cannot decode (`/items/%E0%A4%A`, 400), an over-long
 * parameter (414) or a failing async constraint (500) is answered before any hook runs, so core's
 * `x-request-id` header and `request_id` field and the plugin's `request completed` line would be
 * missing. This answer keeps Fastify's shape and adds them.
 */
function requestIdFrameworkErrors(header: string): OpskitFastifyOptions['frameworkErrors'] {
  return function opskitFrameworkErrors(error, request, reply) {
    const statusCode = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500
    reply
      .code(statusCode)
      .header(header, request.id)
      .send({ statusCode, code: error.code, error: STATUS_CODES[statusCode], message: error.message, request_id: request.id })
    const context = createRequestContext(request)
    const fields = {
      method: context.method,
      path: context.url,
      status_code: statusCode,
      duration_ms: Math.round(reply.elapsedTime * 1000) / 1000,
      ip: context.ip,
      user_agent: context.userAgent,
    }
    if (statusCode >= 500) request.log.error(fields, 'request completed')
    else request.log.info(fields, 'request completed')
  }
}

type LogControllerConstructor = new (opts: { disableRequestLogging?: boolean; requestIdLogLabel?: string }) => NonNullable<FastifyServerOptions['logController']>

/**
 * Fastify constructor options for an opskit logger: `loggerInstance`, `genReqId` from core's
 * `requestIdGenerator()`, Fastify's own request logging off (the plugin writes one `request
 * completed` line instead), the request-id label `request_id`, and `frameworkErrors` (errors the
 * router answers before any hook runs still carry the request id and a `request completed` line).
 * On a Fastify that exports `LogController` (≥ 5.7) request logging and the label go through
 * `logController`, so no FSTDEP023/024 warning.
 *
 * ```ts
 * const app = Fastify(fastifyLoggingOptions(createLogger()))
 * ```
 */
export function fastifyLoggingOptions(logger: Logger | FastifyBaseLogger, opts: FastifyLoggingOptions = {}): OpskitFastifyOptions {
  const loggerInstance = logger as FastifyBaseLogger
  const header = (opts.requestIdHeader ?? 'x-request-id').toLowerCase()
  const genReqId = requestIdGenerator({ header })
  const frameworkErrors = requestIdFrameworkErrors(header)
  const LogController = (fastify as unknown as { LogController?: LogControllerConstructor }).LogController
  if (typeof LogController === 'function') {
    return {
      loggerInstance,
      genReqId,
      frameworkErrors,
      logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: REQUEST_ID_LOG_LABEL }),
    }
  }
  return { loggerInstance, genReqId, frameworkErrors, disableRequestLogging: true, requestIdLogLabel: REQUEST_ID_LOG_LABEL }
}
