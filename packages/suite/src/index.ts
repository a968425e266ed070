export { loadConfig, OpskitConfigError } from './config.js'
export type { OpskitConfig, ConfigProblem, Environment, LogLevel, LogFormat } from './config.js'
export { FST_OPSKIT_INVALID_OPTION } from './errors.js'
