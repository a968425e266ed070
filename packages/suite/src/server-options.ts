import { createLogger, fastifyLoggingOptions, type CreateLoggerOptions, type LogFileOptions, type OpskitFastifyOptions } from '@opskit/logging'
import { loadConfig, type OpskitConfig } from './config.js'

/** Fastify constructor options from `serverOptions()`. Spread them and add your own. */
export type OpskitServerOptions = OpskitFastifyOptions & { pluginTimeout: number; return503OnClosing: false }

/**
 * Fastify's default plugin timeout is 10 s; the suite's register includes opening embedded PGlite
 * (a WebAssembly PostgreSQL) or connecting to PostgreSQL and migrating, which can take longer on a
 * small or busy machine.
 */
export const SUITE_PLUGIN_TIMEOUT_MS = 30_000

/**
 * Fastify constructor options for an opskit server: the opskit logger (level, format, file, its
 * directory and rotation, and name from the config), request ids from `requestIdGenerator()` (a valid incoming `x-request-id`
 * is reused), Fastify's own request logging off (the logging plugin writes one `request completed`
 * line instead) and the request-id log label `request_id`. On a Fastify that has `LogController`
 * (≥ 5.7) the last two go through `logController`, so no FSTDEP023/FSTDEP024 warning is printed
 * (built by `@opskit/logging`'s `fastifyLoggingOptions()`). `pluginTimeout` is raised to 30 s
 * (`SUITE_PLUGIN_TIMEOUT_MS`) so a slow embedded-database start is not reported as a hung plugin.
 * `return503OnClosing` is `false`: once `close()` starts, Fastify would otherwise answer every
 * request with its own 503, so during `@opskit/health`'s `shutdownDelayMs` drain readiness could not
 * say `{"status":"shutting_down"}` and the rest of the app could not serve the stragglers.
 *
 * @param config default `loadConfig()` (reads `process.env`).
 * @param logger `createLogger()` options merged over those from the config (`destination`,
 *   `stdout: false`, extra `redact` paths, a `file` with its own rotation...). Default `{}`.
 */
export function serverOptions(config: OpskitConfig = loadConfig(), logger: CreateLoggerOptions = {}): OpskitServerOptions {
  const path = config.logFile ?? (config.logDir !== undefined ? `${config.appName}.log` : undefined)
  const file: LogFileOptions | undefined = path === undefined ? undefined : { path }
  if (file !== undefined && config.logFileMaxBytes !== undefined) file.maxSize = config.logFileMaxBytes
  if (file !== undefined && config.logFileBackupCount !== undefined) file.maxFiles = config.logFileBackupCount + 1
  const loggerInstance = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    name: config.appName,
    ...(config.logDir !== undefined ? { dir: config.logDir } : {}),
    ...(file !== undefined ? { file } : {}),
    ...logger,
  })
  return { ...fastifyLoggingOptions(loggerInstance), pluginTimeout: SUITE_PLUGIN_TIMEOUT_MS, return503OnClosing: false }
}
