export { opskit, default, EXPOSED_HEADERS } from './plugin.js'
export type { OpskitDecorator } from './plugin.js'
export type {
  OpskitOptions,
  CoreOptions,
  LoggingOptions,
  MetricsOptions,
  HealthOptions,
  SecurityLogOptions,
  RateLimitOptions,
  AuditOptions,
  ErrorReportsOptions,
  AlertsOptions,
} from './options.js'
export { loadConfig, OpskitConfigError } from './config.js'
export type { OpskitConfig, ConfigProblem, Environment, LogLevel, LogFormat } from './config.js'
export type { SentryConfig, AlertSinksConfig } from './config-reporting.js'
export { serverOptions, SUITE_PLUGIN_TIMEOUT_MS } from './server-options.js'
export type { OpskitServerOptions } from './server-options.js'
export { FST_OPSKIT_INVALID_OPTION, FST_OPSKIT_INVALID_CONFIG, FST_OPSKIT_CORS_ORIGIN_FAILED } from './errors.js'
