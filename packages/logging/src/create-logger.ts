import type { FastifyBaseLogger } from 'fastify'
import { pino, type Logger } from 'pino'
import { buildDestination } from './destination.js'
import { serializeError } from './error-serializer.js'
import { formatLine, LineFormat, serializeFields, type LoggerInternals } from './line-format.js'
import { resolveLoggerOptions, type CreateLoggerOptions, type LogDestination } from './options.js'
import { Redactor } from './redactor.js'
import { RollingFile } from './rolling-file.js'
import { TeeStream } from './tee-stream.js'
import { bindingKeysSym, bindingsSym, boundRequestIdSym, formatSym, nameJsonSym } from './symbols.js'

const { asJsonSym, chindingsSym, serializersSym, streamSym } = pino.symbols
const hasOwn = Object.prototype.hasOwnProperty

type ChildOptions = Parameters<Logger['child']>[1]
type PinoChild = (this: LoggerInternals, bindings: Record<string, unknown>, options?: ChildOptions) => LoggerInternals

function isEmpty(options: object): boolean {
  for (const key in options) if (hasOwn.call(options, key)) return false
  return true
}

/**
 * `child()` of opskit loggers. `logger` becomes the line's `logger` field, the request id Fastify
 * binds on `request.log` (`reqId` or `request_id`) is written once as `request_id`, and every other
 * binding is redacted like a field. Fastify's per-request child (only the request id, no options)
 * is a bare `Object.create`: no string building on the request path.
 */
function createChild(pinoChild: PinoChild) {
  return function child(this: LoggerInternals, bindings: Record<string, unknown>, options?: ChildOptions): LoggerInternals {
    if (bindings === null || typeof bindings !== 'object') return pinoChild.call(this, bindings, options)
    let requestId: string | undefined
    let name: string | undefined
    let own: Record<string, unknown> | undefined
    for (const key in bindings) {
      if (!hasOwn.call(bindings, key)) continue
      const value = bindings[key]
      if (value === undefined) continue
      if (key === 'reqId' || key === 'request_id') requestId = String(value)
      else if (key === 'logger') name = String(value)
      else if (key !== 'timestamp' && key !== 'level' && key !== 'message') (own ??= {})[key] = value
    }
    let instance: LoggerInternals
    if (own === undefined && (options === undefined || options === null || isEmpty(options))) {
      instance = Object.create(this) as LoggerInternals
    } else {
      instance = pinoChild.call(this, {}, options)
      if (own !== undefined) {
        const merged: Record<string, unknown> = Object.assign({}, this[bindingsSym], own)
        const keys = Object.create(null) as Record<string, true>
        for (const key in merged) keys[key] = true
        instance[bindingsSym] = merged
        instance[bindingKeysSym] = keys
        instance[chindingsSym] = serializeFields(
          merged,
          this[formatSym].redactor,
          instance[serializersSym] as Record<string, (value: unknown) => unknown> | undefined,
        )
      }
    }
    if (requestId !== undefined) instance[boundRequestIdSym] = requestId
    if (name !== undefined) instance[nameJsonSym] = JSON.stringify(name)
    return instance
  }
}

/**
 * A pino logger writing opskit's line format, usable as Fastify's `loggerInstance`: one JSON
 * object per line (`timestamp`, `level`, `logger`, `message`, request context, fields, `source`
 * on WARN+), redacted, to stdout (or `destination`) and optionally a rotating file.
 * Throws `FST_LOGGING_INVALID_OPTION` naming a bad option.
 */
export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const options = resolveLoggerOptions(opts)
  const stream = buildDestination(options)
  const logger = pino({ level: options.level, base: null, timestamp: false, messageKey: 'message', serializers: { err: serializeError } }, stream as pino.DestinationStream)
  const internals = logger as unknown as LoggerInternals
  internals[formatSym] = new LineFormat(new Redactor(options.redact))
  internals[nameJsonSym] = JSON.stringify(options.name)
  internals[asJsonSym] = formatLine
  internals.child = createChild(internals.child as PinoChild)
  return logger
}

/** True for loggers made by `createLogger()` (and their children, Fastify's `fastify.log` included). */
export function isOpskitLogger(logger: unknown): boolean {
  return logger !== null && typeof logger === 'object' && (logger as LoggerInternals)[formatSym] instanceof LineFormat
}

function destinationOf(logger: Logger | FastifyBaseLogger): LogDestination | undefined {
  return (logger as unknown as Record<symbol, LogDestination | undefined>)[streamSym]
}

/** Resolves once every line logged so far has been handed to its destinations (file included). Takes `fastify.log` too. */
export function flushLogger(logger: Logger | FastifyBaseLogger): Promise<void> {
  const destination = destinationOf(logger)
  if (destination === undefined || typeof destination.flush !== 'function') return Promise.resolve()
  return new Promise((resolve) => {
    destination.flush!(() => resolve())
  })
}

/** Flushes, then closes the logger's rotating file. stdout and a caller's `destination` stay open. */
export async function closeLogger(logger: Logger | FastifyBaseLogger): Promise<void> {
  await flushLogger(logger)
  const destination = destinationOf(logger)
  if (destination instanceof RollingFile) destination.end()
  else if (destination instanceof TeeStream) destination.endFiles()
}
