import { createOptionError } from '@opskit/core'

/** Thrown at `register()` when an `opskit` option is invalid; the message names the option. */
export const FST_OPSKIT_INVALID_OPTION = createOptionError('FST_OPSKIT_INVALID_OPTION', '@opskit/suite')
