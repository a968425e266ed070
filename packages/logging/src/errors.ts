import { createOptionError } from '@opskit/core'

/** Thrown by `createLogger()` and at `register()` when an option is invalid; the message names it. */
export const FST_OPSKIT_LOGGING_INVALID_OPTION = createOptionError('FST_OPSKIT_LOGGING_INVALID_OPTION', '@opskit/logging')

/** @deprecated Renamed `FST_OPSKIT_LOGGING_INVALID_OPTION` (the same class: its errors carry the new code). */
export const FST_LOGGING_INVALID_OPTION = FST_OPSKIT_LOGGING_INVALID_OPTION
