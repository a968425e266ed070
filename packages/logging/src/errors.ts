import { createOptionError } from '@opskit/core'

/** Thrown by `createLogger()` and at `register()` when an option is invalid; the message names it. */
export const FST_LOGGING_INVALID_OPTION = createOptionError('FST_LOGGING_INVALID_OPTION', '@opskit/logging')
