import createError from '@fastify/error'
import { createOptionError } from '@opskit/core'

/** Thrown at `register()` when an `opskit` option is invalid; the message names the option. */
export const FST_OPSKIT_INVALID_OPTION = createOptionError('FST_OPSKIT_INVALID_OPTION', '@opskit/suite')

/** The base of `OpskitConfigError` (`loadConfig()`: one or more bad variables). */
export const FST_OPSKIT_INVALID_CONFIG = createError<[message: string]>('FST_OPSKIT_INVALID_CONFIG', '%s', 500)

/** A `cors.origin` function rejected (or threw) with something that is not an `Error`; the request fails with this instead. */
export const FST_OPSKIT_CORS_ORIGIN_FAILED = createError<[reason: string]>('FST_OPSKIT_CORS_ORIGIN_FAILED', '@opskit/suite: the cors origin function failed: %s', 500)
