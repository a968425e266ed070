import type { FastifyBaseLogger } from 'fastify'
import type { Logger } from 'pino'
import type { RequestContext } from '@opskit/core'

// Properties opskit keeps on pino logger instances. Symbols, so they never reach a log line and
// never collide with pino's own fields; children inherit them through pino's prototype chain.

/** The `LineFormat` of the root logger (level labels, clock, redactor). */
export const formatSym = Symbol('opskit.logging.format')
/** JSON-encoded `logger` name of this instance (`"app"`, with quotes). */
export const nameJsonSym = Symbol('opskit.logging.nameJson')
/** Request id bound by Fastify on `request.log` (under `reqId` or `request_id`). */
export const boundRequestIdSym = Symbol('opskit.logging.boundRequestId')
/** The request context the plugin attaches to `request.log`, read when no async context is active. */
export const contextSym = Symbol('opskit.logging.context')
/** Keys present in this instance's bindings (null-prototype object), to avoid duplicate keys. */
export const bindingKeysSym = Symbol('opskit.logging.bindingKeys')
/** The bindings themselves (redacted), used only when a logged field collides with one. */
export const bindingsSym = Symbol('opskit.logging.bindings')
/** `fastify.log` of the instance serving a request, set on the request context by the plugin. */
export const serverLoggerSym = Symbol('opskit.logging.serverLogger')
/** The named channels of a logger tree (`Map<name, Logger>`), on the root and every channel logger. */
export const channelsSym = Symbol('opskit.logging.channels')
/** On a channel's logger (and its children): the channel's name. */
export const channelNameSym = Symbol('opskit.logging.channelName')
/** Every destination and rotating file of a logger tree (main and channels), for flush and close. */
export const outputsSym = Symbol('opskit.logging.outputs')

/** A request (or job) context as the plugin marks it: the serving instance's `fastify.log`. */
export type MarkedContext = RequestContext & { [serverLoggerSym]?: Logger }
/** `request.log` as the plugin marks it: the request's context, for lines written outside its async flow. */
export type MarkedRequestLog = FastifyBaseLogger & { [contextSym]?: RequestContext }
