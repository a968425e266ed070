export { opskitErrorReports, default } from './plugin.js'
export type { ErrorReportsApi } from './plugin.js'
export type { OpskitErrorReportsOptions } from './options.js'
export { FST_OPSKIT_ERROR_REPORTS_INVALID_OPTION } from './errors.js'
