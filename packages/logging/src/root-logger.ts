import { getRequestContext, type RequestContext } from '@opskit/core'
import type { Logger } from 'pino'
import { createLogger } from './create-logger.js'
import { serverLoggerSym } from './symbols.js'

// The logger `getLogger()` derives from outside a request. Process-wide on purpose (like a root
// logger in any logging library): set by the plugin to `fastify.log`, or created on first use.
let rootLogger: Logger | undefined

/** Makes `logger` the parent of `getLogger()` loggers outside requests. `undefined` resets it. */
export function setRootLogger(logger: Logger | undefined): void {
  rootLogger = logger
}

/** Resets the root logger when it is still `logger` (a closing Fastify instance's `fastify.log`). */
export function releaseRootLogger(logger: Logger): void {
  if (rootLogger === logger) rootLogger = undefined
}

/** The current root logger; a default `createLogger()` (environment settings) when none was set. */
export function getRootLogger(): Logger {
  rootLogger ??= createLogger()
  return rootLogger
}

/** `fastify.log` of the instance serving the current request (set by the plugin), if any. */
export function serverLogger(context: RequestContext | undefined = getRequestContext()): Logger | undefined {
  return context === undefined ? undefined : ((context as unknown as Record<symbol, Logger | undefined>)[serverLoggerSym])
}

/**
 * A child logger whose lines carry `logger: name`, derived from the logger of the Fastify instance
 * serving the current request, else from the root logger. It holds nothing request-specific:
 * lines written while a request is being served carry its `request_id`,
 * `user_id` and `tenant_id` (read at write time from the request context), so a logger made once
 * at module load still tags lines from deep inside a service.
 */
export function getLogger(name: string): Logger {
  const parent = serverLogger() ?? getRootLogger()
  return parent.child({ logger: name })
}
