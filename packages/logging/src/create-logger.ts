import type { FastifyBaseLogger } from 'fastify'
import { pino, type Logger } from 'pino'
import { channelFor, combine, type TreeOutputs } from './channels.js'
import { buildDestination } from './destination.js'
import { serializeError } from './error-serializer.js'
import { formatLine, LineFormat, serializeFields, type LoggerInternals } from './line-format.js'
import { resolveLoggerOptions, type CreateLoggerOptions, type LogDestination, type LogLevel } from './options.js'
import { Redactor } from './redactor.js'
import { RollingFile } from './rolling-file.js'
import {
  bindingKeysSym,
  bindingsSym,
  boundRequestIdSym,
  channelNameSym,
  channelsSym,
  contextSym,
  formatSym,
  nameJsonSym,
  outputsSym,
} from './symbols.js'

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
    if (name !== undefined) {
      // `child({ logger: '<channel>' })` (what `getLogger('<channel>')` does) writes to the channel.
      const channel = channelFor(this, name)
      if (channel !== undefined) {
        const instance = internalsOf(channel.child(own ?? {}, options))
        // The request this logger is bound to (`request.log.child({ logger: 'webhooks' })`) stays its request.
        const boundRequestId = requestId ?? this[boundRequestIdSym]
        if (boundRequestId !== undefined) instance[boundRequestIdSym] = boundRequestId
        if (this[contextSym] !== undefined) instance[contextSym] = this[contextSym]
        instance[nameJsonSym] = JSON.stringify(name)
        return instance
      }
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

/** A logger seen as the pino internals opskit reads and writes (its symbol-keyed fields): the one cast. */
function internalsOf(logger: Logger | FastifyBaseLogger): LoggerInternals {
  return logger as unknown as LoggerInternals
}

function opskitPino(level: LogLevel, stream: LogDestination, format: LineFormat, name: string): Logger {
  const logger = pino({ level, base: null, timestamp: false, messageKey: 'message', serializers: { err: serializeError } }, stream as pino.DestinationStream)
  const internals = internalsOf(logger)
  internals[formatSym] = format
  internals[nameJsonSym] = JSON.stringify(name)
  internals[asJsonSym] = formatLine
  internals.child = createChild(internals.child as PinoChild)
  return logger
}

/**
 * A pino logger writing opskit's line format, usable as Fastify's `loggerInstance`: one JSON
 * object per line (`timestamp`, `level`, `logger`, `message`, request context, fields, `source`
 * on WARN+), redacted, to stdout (or `destination`) and optionally a rotating file. Each named
 * channel is a logger of its own (own level, own rotating file, the same stdout), which
 * `getLogger('<channel>')` and `child({ logger: '<channel>' })` return.
 * Throws `FST_OPSKIT_LOGGING_INVALID_OPTION` naming a bad option.
 */
export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const options = resolveLoggerOptions(opts)
  const outputs: TreeOutputs = { streams: [], files: [] }
  const stdout = options.stdout ? buildDestination({ ...options, file: undefined }) : undefined
  const format = new LineFormat(new Redactor(options.redact))
  const main = combine(stdout, options.file === undefined ? undefined : new RollingFile(options.file), outputs)
  const logger = opskitPino(options.level, main, format, options.name)
  if (options.channels.length > 0) {
    const channels = new Map<string, Logger>()
    for (const channel of options.channels) {
      const stream = combine(stdout, new RollingFile(channel.file), outputs)
      const channelLogger = opskitPino(channel.level, stream, format, channel.name)
      const internals = internalsOf(channelLogger)
      internals[channelsSym] = channels
      internals[channelNameSym] = channel.name
      internals[outputsSym] = outputs
      channels.set(channel.name, channelLogger)
    }
    internalsOf(logger)[channelsSym] = channels
  }
  internalsOf(logger)[outputsSym] = outputs
  return logger
}

/** True for loggers made by `createLogger()` (and their children, Fastify's `fastify.log` included). */
export function isOpskitLogger(logger: unknown): boolean {
  return logger !== null && typeof logger === 'object' && (logger as LoggerInternals)[formatSym] instanceof LineFormat
}

function outputsOf(logger: Logger | FastifyBaseLogger): TreeOutputs {
  const outputs = internalsOf(logger)[outputsSym] as TreeOutputs | undefined
  if (outputs !== undefined) return outputs
  // Not ours: its one stream.
  const stream = internalsOf(logger)[streamSym] as LogDestination | undefined
  return { streams: stream === undefined ? [] : [stream], files: [] }
}

function flushStream(stream: LogDestination): Promise<void> {
  if (typeof stream.flush !== 'function') return Promise.resolve()
  return new Promise((resolve) => {
    stream.flush!(() => resolve())
  })
}

/**
 * Resolves once every line logged so far has been handed to its destinations (files included),
 * for the main logger and each channel of the tree. Takes `fastify.log` and `getLogger()` loggers too.
 */
export async function flushLogger(logger: Logger | FastifyBaseLogger): Promise<void> {
  await Promise.all(outputsOf(logger).streams.map(flushStream))
}

/**
 * Flushes, then closes the rotating files of the logger's tree (main file and channels) and waits
 * for their compression and deletions. stdout and a caller's `destination` stay open.
 */
export async function closeLogger(logger: Logger | FastifyBaseLogger): Promise<void> {
  await flushLogger(logger)
  const { files } = outputsOf(logger)
  for (const file of files) file.end()
  await Promise.all(files.map((file) => file.settled()))
}
