import { createOptionError } from '@opskit/core'

/** Thrown at `register()` (or when a route is added) for a bad option; the message names it. */
export const FST_RATE_LIMIT_INVALID_OPTION = createOptionError('FST_RATE_LIMIT_INVALID_OPTION', '@opskit/rate-limit')
