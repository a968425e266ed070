import createError from '@fastify/error'
import { createOptionError } from '@opskit/core'

/** A bad plugin option or sink option, thrown at `register()` (or when the sink is built). */
export const FST_OPSKIT_ALERTS_INVALID_OPTION = createOptionError('FST_OPSKIT_ALERTS_INVALID_OPTION', '@opskit/alerts')
/** `GET <prefix>` without an actor. */
export const FST_OPSKIT_ALERTS_UNAUTHORIZED = createError('FST_OPSKIT_ALERTS_UNAUTHORIZED', 'authentication required', 401)
/** `GET <prefix>` when `authorize(request)` is not `true`. */
export const FST_OPSKIT_ALERTS_FORBIDDEN = createError('FST_OPSKIT_ALERTS_FORBIDDEN', 'not allowed to read alerts', 403)
/** A sink that did not deliver (the message never holds the sink's URL or token). */
export const FST_OPSKIT_ALERTS_DELIVERY_FAILED = createError('FST_OPSKIT_ALERTS_DELIVERY_FAILED', '%s', 502)
/** Redis did not answer a shared-state call in time (this instance then sends the alert itself; logged). */
export const FST_OPSKIT_ALERTS_REDIS_TIMEOUT = createError('FST_OPSKIT_ALERTS_REDIS_TIMEOUT', 'Redis did not answer within %s ms')
