import { createOptionError } from '@opskit/core'

/** A bad plugin option, thrown at `register()`. */
export const FST_OPSKIT_ERROR_REPORTS_INVALID_OPTION = createOptionError('FST_OPSKIT_ERROR_REPORTS_INVALID_OPTION', '@opskit/error-reports')
