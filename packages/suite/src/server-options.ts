import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'
import fastify from 'fastify'
import { requestIdGenerator } from '@opskit/core'
import { createLogger, type CreateLoggerOptions } from '@opskit/logging'
import { loadConfig, type OpskitConfig } from './config.js'

/** The request-id log label every opskit log line uses. */
export const REQUEST_ID_LOG_LABEL = 'request_id'

/** Fastify constructor options from `serverOptions()`. Spread them and add your own. */
export interface OpskitServerOptions extends Pick<FastifyServerOptions, 'genReqId' | 'logController' | 'disableRequestLogging' | 'requestIdLogLabel'> {
  loggerInstance: FastifyBaseLogger
  genReqId: NonNullable<FastifyServerOptions['genReqId']>
}

type LogControllerConstructor = new (opts: { disableRequestLogging?: boolean; requestIdLogLabel?: string }) => NonNullable<FastifyServerOptions['logController']>

/** Fastify ≥ 5.7 exports `LogController`; older 5.x releases only know the top-level options. */
function logControllerClass(): LogControllerConstructor | undefined {
  const candidate = (fastify as unknown as { LogController?: unknown }).LogController
  return typeof candidate === 'function' ? (candidate as LogControllerConstructor) : undefined
}

/**
 * Fastify constructor options for an opskit server: the opskit logger (level, format, file and
 * name from the config), request ids from `requestIdGenerator()` (a valid incoming `x-request-id`
 * is reused), Fastify's own request logging off (the logging plugin writes one `request completed`
 * line instead) and the request-id log label `request_id`. On a Fastify that has `LogController`
 * the last two go through `logController`, so no FSTDEP023/FSTDEP024 warning is printed.
 *
 * @param config default `loadConfig()` (reads `process.env`).
 * @param logger `createLogger()` options merged over those from the config (`destination`,
 *   `stdout: false`, extra `redact` paths, a `file` with its own rotation...). Default `{}`.
 */
export function serverOptions(config: OpskitConfig = loadConfig(), logger: CreateLoggerOptions = {}): OpskitServerOptions {
  const loggerInstance = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    name: config.appName,
    ...(config.logFile !== undefined ? { file: config.logFile } : {}),
    ...logger,
  }) as unknown as FastifyBaseLogger
  const genReqId = requestIdGenerator()
  const LogController = logControllerClass()
  if (LogController !== undefined) {
    return {
      loggerInstance,
      genReqId,
      logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: REQUEST_ID_LOG_LABEL }),
    }
  }
  return { loggerInstance, genReqId, disableRequestLogging: true, requestIdLogLabel: REQUEST_ID_LOG_LABEL }
}
