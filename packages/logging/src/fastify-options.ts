import { requestIdGenerator } from '@opskit/core'
import fastify, { type FastifyBaseLogger, type FastifyServerOptions } from 'fastify'
import type { Logger } from 'pino'

/** The request-id log label of opskit lines. */
export const REQUEST_ID_LOG_LABEL = 'request_id'

export interface FastifyLoggingOptions {
  /** Incoming header whose valid value is reused as the request id. Default `'x-request-id'`. */
  requestIdHeader?: string
}

export type OpskitFastifyOptions = Pick<FastifyServerOptions, 'genReqId' | 'logController' | 'disableRequestLogging' | 'requestIdLogLabel'> & {
  loggerInstance: FastifyBaseLogger
}

type LogControllerConstructor = new (opts: { disableRequestLogging?: boolean; requestIdLogLabel?: string }) => NonNullable<FastifyServerOptions['logController']>

/**
 * Fastify constructor options for an opskit logger: `loggerInstance`, `genReqId` from core's
 * `requestIdGenerator()`, Fastify's own request logging off (the plugin writes one `request
 * completed` line instead) and the request-id label `request_id`. On a Fastify that exports
 * `LogController` (≥ 5.7) the last two go through `logController`, so no FSTDEP023/024 warning.
 *
 * ```ts
 * const app = Fastify(fastifyLoggingOptions(createLogger()))
 * ```
 */
export function fastifyLoggingOptions(logger: Logger | FastifyBaseLogger, opts: FastifyLoggingOptions = {}): OpskitFastifyOptions {
  const loggerInstance = logger as FastifyBaseLogger
  const genReqId = requestIdGenerator(opts.requestIdHeader !== undefined ? { header: opts.requestIdHeader } : {})
  const LogController = (fastify as unknown as { LogController?: LogControllerConstructor }).LogController
  if (typeof LogController === 'function') {
    return {
      loggerInstance,
      genReqId,
      logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: REQUEST_ID_LOG_LABEL }),
    }
  }
  return { loggerInstance, genReqId, disableRequestLogging: true, requestIdLogLabel: REQUEST_ID_LOG_LABEL }
}
