import { getRequestContext, type RequestContext } from '@opskit/core'
import type { Logger } from 'pino'
import { parentFor } from './channels.js'
import { createLogger, isOpskitLogger } from './create-logger.js'
import { serverLoggerSym, type MarkedContext } from './symbols.js'

// The logger `getLogger()` derives from outside a request. Process-wide on purpose (like the root
// logger of any logging library): set by the plugin to `fastify.log`, or created on first use.
let rootLogger: Logger | undefined
// Loggers `getLogger()` made from the root (typically at module load, before the server exists).
// They follow the root when it changes, so `const log = getLogger('orders')` at the top of a
// module writes through the app's logger once the plugin has set it (through its channel, when
// the app's logger has a channel of that name). Weak: dropped loggers go.
const rootChildren = new Set<WeakRef<Logger>>()

/** Makes `logger` the parent of `getLogger()` loggers outside requests, including the ones already made. */
export function setRootLogger(logger: Logger): void {
  if (rootLogger === logger) return
  rootLogger = logger
  if (!isOpskitLogger(logger)) return
  for (const ref of rootChildren) {
    const child = ref.deref()
    if (child === undefined) rootChildren.delete(ref)
    else Object.setPrototypeOf(child, parentFor(logger, child))
  }
}

/** Forgets `logger` as the root when it still is (a closing Fastify instance's `fastify.log`). */
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
  return context === undefined ? undefined : (context as MarkedContext)[serverLoggerSym]
}

/**
 * A child logger whose lines carry `logger: name`. Inside a request it derives from the logger of
 * the Fastify instance serving it; elsewhere from the root logger (and follows it when the plugin
 * sets a new one). It holds nothing request-specific: lines written while a request is served
 * carry its `request_id`, `user_id` and `tenant_id`, read at write time from the request context,
 * so a logger made once at module load still tags lines from three awaits deep in a service.
 */
export function getLogger(name: string): Logger {
  const server = serverLogger()
  if (server !== undefined) return server.child({ logger: name })
  const root = getRootLogger()
  const child = root.child({ logger: name })
  if (isOpskitLogger(root)) rootChildren.add(new WeakRef(child))
  return child
}
