import createError from '@fastify/error'
import { createOptionError } from '@opskit/core'

/** Thrown at `register()` (or when a route is added) for a bad option; the message names it. */
export const FST_OPSKIT_RATE_LIMIT_INVALID_OPTION = createOptionError('FST_OPSKIT_RATE_LIMIT_INVALID_OPTION', '@opskit/rate-limit')

/** @deprecated Renamed `FST_OPSKIT_RATE_LIMIT_INVALID_OPTION` (the same class: its errors carry the new code). */
export const FST_RATE_LIMIT_INVALID_OPTION = FST_OPSKIT_RATE_LIMIT_INVALID_OPTION

/** A store answered a hit with neither an error nor a result (a store failure: fail open or 503). */
export const FST_OPSKIT_RATE_LIMIT_STORE_NO_RESULT = createError<[store: string]>('FST_OPSKIT_RATE_LIMIT_STORE_NO_RESULT', 'The %s rate-limit store returned no result', 503)
