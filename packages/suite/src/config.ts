import { readAlertSinksConfig, readSentryConfig } from './config-reporting.js'
import type { AlertSinksConfig, SentryConfig } from './config-reporting.js'
import { FST_OPSKIT_INVALID_CONFIG } from './errors.js'

/** The environments `ENVIRONMENT` accepts. */
export type Environment = 'development' | 'staging' | 'production'
/** pino levels `LOG_LEVEL` accepts. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
/** Output formats `LOG_FORMAT` accepts. */
export type LogFormat = 'json' | 'pretty'

/** Everything the suite reads from the environment, validated and typed. */
export interface OpskitConfig {
  /** `APP_NAME`, default `'app'`: the `logger` field of log lines. */
  appName: string
  /** `APP_VERSION`, default `'0.0.0'`: reported by `/health`. */
  appVersion: string
  /** `ENVIRONMENT`: development | staging | production, default `'development'`. */
  environment: Environment
  /** `LOG_LEVEL`, default `'info'`. */
  logLevel: LogLevel
  /** `LOG_FORMAT`: json | pretty, default `'json'`. */
  logFormat: LogFormat
  /** `LOG_FILE`: lines also go to this rotating file (a relative path is under `LOG_DIR` when set). Unset: stdout only, unless `LOG_DIR` is set. */
  logFile?: string
  /** `LOG_DIR`: directory of the log files; with no `LOG_FILE`, lines also go to `<LOG_DIR>/<APP_NAME>.log`. */
  logDir?: string
  /** `LOG_FILE_MAX_BYTES`: the main log file rotates at this size. Default 10 MiB (`@opskit/logging`'s `'10m'`). */
  logFileMaxBytes?: number
  /** `LOG_FILE_BACKUP_COUNT`: rotated main log files kept besides the active one. Default 9 (10 files in all). */
  logFileBackupCount?: number
  /** `DATABASE_URL` (postgres:// or postgresql://). Unset: audit and security events go to embedded PGlite. */
  databaseUrl?: string
  /** `REDIS_URL` (redis:// or rediss://). Unset: rate-limit and abuse counters stay in memory. */
  redisUrl?: string
  /** `CORS_ORIGINS`, comma-separated origins (`*` for any). Default none: CORS is not registered. */
  corsOrigins: string[]
  rateLimit: {
    /** `RATE_LIMIT_ENABLED`, default `true`. */
    enabled: boolean
    /** `RATE_LIMIT_REQUESTS`: requests per period, default `100`. */
    requests: number
    /** `RATE_LIMIT_PERIOD`: the period in seconds, default `60`. */
    periodSeconds: number
  }
  /** `METRICS_TOKEN`: when set, `/metrics` requires `Authorization: Bearer <token>`. */
  metricsToken?: string

  // --- Error reports and alerts (issue #15) ---
  /** `SENTRY_DSN`, `SENTRY_ENVIRONMENT`, `SENTRY_TRACES_SAMPLE_RATE`: set when `SENTRY_DSN` is. */
  sentry?: SentryConfig
  /** Telegram, webhook and e-mail alert sinks: set when at least one is configured. */
  alertSinks?: AlertSinksConfig
  // --- end error reports and alerts ---
  /**
   * `ENABLE_OPENTELEMETRY=true`: the suite starts the OpenTelemetry tracing SDK with `@fastify/otel`
   * and exports spans over OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT` (default
   * `http://localhost:4318`, OpenTelemetry's own default). Unset or false: no SDK is started.
   */
  openTelemetry?: { endpoint: string }
}

/** One bad environment variable and what was expected of it. */
export interface ConfigProblem {
  variable: string
  message: string
}

/**
 * Thrown by `loadConfig()` when one or more variables are invalid. The message lists every bad
 * variable with what was expected; secret values (URL passwords, `METRICS_TOKEN`) are never echoed.
 */
export class OpskitConfigError extends FST_OPSKIT_INVALID_CONFIG {
  readonly problems: readonly ConfigProblem[]

  constructor(problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.variable}: ${p.message}`)
    const count = problems.length === 1 ? '1 variable' : `${problems.length} variables`
    super(`@opskit/suite: invalid configuration (${count}):\n${lines.join('\n')}`)
    this.name = 'OpskitConfigError'
    this.problems = problems
  }
}

const ENVIRONMENTS: readonly Environment[] = ['development', 'staging', 'production']
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty']
const TRUE_VALUES = new Set(['true', '1', 'yes', 'on'])
const FALSE_VALUES = new Set(['false', '0', 'no', 'off'])
const POSITIVE_INTEGER = /^[1-9][0-9]*$/
const VISIBLE_ASCII = /^[\x21-\x7e]+$/
const MAX_ECHO = 40

function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f
}

/** Non-empty and free of control characters (CR, LF, NUL...). */
function isPrintable(value: string): boolean {
  if (value.length === 0) return false
  for (let i = 0; i < value.length; i++) if (isControl(value.charCodeAt(i))) return false
  return true
}

/** Quotes a non-secret value for an error message, bounded and stripped of control characters. */
function shown(value: string): string {
  let clean = ''
  for (const char of value) clean += isControl(char.charCodeAt(0)) ? '?' : char
  return JSON.stringify(clean.length > MAX_ECHO ? `${clean.slice(0, MAX_ECHO)}…` : clean)
}

/** An unset or blank variable counts as unset, so `FOO=` in a .env file means "use the default". */
function read(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name]
  if (value === undefined) return undefined
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}

function parseServiceUrl(value: string, protocols: readonly string[]): { ok: true } | { ok: false; protocol?: string } {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return { ok: false }
  }
  if (!protocols.includes(url.protocol)) return { ok: false, protocol: url.protocol }
  if (url.hostname === '') return { ok: false, protocol: url.protocol }
  return { ok: true }
}

/** `*`, or the normalized origin of an `http(s)://host[:port]` value with no path, query or credentials. */
function toOrigin(value: string): string | undefined {
  if (value === '*') return '*'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') return undefined
  if (value.replace(/\/$/, '').toLowerCase() !== url.origin.toLowerCase()) return undefined
  return url.origin
}

/**
 * Reads and validates the suite's environment variables. Every bad variable is collected and
 * reported in one `OpskitConfigError` (code `FST_OPSKIT_INVALID_CONFIG`).
 *
 * @param env the variables to read, default `process.env`.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): OpskitConfig {
  const problems: ConfigProblem[] = []
  const bad = (variable: string, message: string): void => {
    problems.push({ variable, message })
  }

  const appName = read(env, 'APP_NAME') ?? 'app'
  if (!isPrintable(appName) || appName.length > 128) {
    bad('APP_NAME', 'expected a name of 1-128 printable characters')
  }

  const appVersion = read(env, 'APP_VERSION') ?? '0.0.0'
  if (!VISIBLE_ASCII.test(appVersion) || appVersion.length > 64) {
    bad('APP_VERSION', `expected a version such as "1.4.2" (1-64 characters, no spaces), got ${shown(appVersion)}`)
  }

  const environmentRaw = (read(env, 'ENVIRONMENT') ?? 'development').toLowerCase()
  if (!ENVIRONMENTS.includes(environmentRaw as Environment)) {
    bad('ENVIRONMENT', `expected one of ${ENVIRONMENTS.join(' | ')}, got ${shown(environmentRaw)}`)
  }

  const logLevelRaw = (read(env, 'LOG_LEVEL') ?? 'info').toLowerCase()
  if (!LOG_LEVELS.includes(logLevelRaw as LogLevel)) {
    bad('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(' | ')}, got ${shown(logLevelRaw)}`)
  }

  const logFormatRaw = (read(env, 'LOG_FORMAT') ?? 'json').toLowerCase()
  if (!LOG_FORMATS.includes(logFormatRaw as LogFormat)) {
    bad('LOG_FORMAT', `expected one of ${LOG_FORMATS.join(' | ')}, got ${shown(logFormatRaw)}`)
  }

  const logFile = read(env, 'LOG_FILE')
  if (logFile !== undefined && (!isPrintable(logFile) || logFile.endsWith('/'))) {
    bad('LOG_FILE', 'expected a file path (printable characters, not a directory)')
  }

  const logDir = read(env, 'LOG_DIR')
  if (logDir !== undefined && !isPrintable(logDir)) {
    bad('LOG_DIR', 'expected a directory path (printable characters)')
  }

  const databaseUrl = read(env, 'DATABASE_URL')
  if (databaseUrl !== undefined) {
    const parsed = parseServiceUrl(databaseUrl, ['postgres:', 'postgresql:'])
    if (!parsed.ok) {
      const got = parsed.protocol !== undefined ? ` (got a ${parsed.protocol}// URL)` : ''
      bad('DATABASE_URL', `expected a postgres:// or postgresql:// URL with a host${got}`)
    }
  }

  const redisUrl = read(env, 'REDIS_URL')
  if (redisUrl !== undefined) {
    const parsed = parseServiceUrl(redisUrl, ['redis:', 'rediss:'])
    if (!parsed.ok) {
      const got = parsed.protocol !== undefined ? ` (got a ${parsed.protocol}// URL)` : ''
      bad('REDIS_URL', `expected a redis:// or rediss:// URL with a host${got}`)
    }
  }

  const corsOrigins: string[] = []
  const corsRaw = read(env, 'CORS_ORIGINS')
  if (corsRaw !== undefined) {
    const wrong: string[] = []
    for (const part of corsRaw.split(',')) {
      const origin = part.trim()
      if (origin === '') continue
      const normalized = toOrigin(origin)
      if (normalized !== undefined) corsOrigins.push(normalized)
      else wrong.push(origin)
    }
    if (wrong.length > 0) {
      bad('CORS_ORIGINS', `expected comma-separated origins such as "https://app.example.com" or "*", got ${wrong.map(shown).join(', ')}`)
    }
  }

  let enabled = true
  const enabledRaw = read(env, 'RATE_LIMIT_ENABLED')
  if (enabledRaw !== undefined) {
    const lower = enabledRaw.toLowerCase()
    if (TRUE_VALUES.has(lower)) enabled = true
    else if (FALSE_VALUES.has(lower)) enabled = false
    else bad('RATE_LIMIT_ENABLED', `expected true or false, got ${shown(enabledRaw)}`)
  }

  const positiveInteger = (name: string, fallback: number): number => {
    const raw = read(env, name)
    if (raw === undefined) return fallback
    const value = Number(raw)
    if (!POSITIVE_INTEGER.test(raw) || !Number.isSafeInteger(value)) {
      bad(name, `expected a positive integer, got ${shown(raw)}`)
      return fallback
    }
    return value
  }
  const requests = positiveInteger('RATE_LIMIT_REQUESTS', 100)
  const periodSeconds = positiveInteger('RATE_LIMIT_PERIOD', 60)
  const logFileMaxBytes = read(env, 'LOG_FILE_MAX_BYTES') === undefined ? undefined : positiveInteger('LOG_FILE_MAX_BYTES', 0)
  const logFileBackupCount = read(env, 'LOG_FILE_BACKUP_COUNT') === undefined ? undefined : positiveInteger('LOG_FILE_BACKUP_COUNT', 0)

  const metricsToken = read(env, 'METRICS_TOKEN')
  if (metricsToken !== undefined && !VISIBLE_ASCII.test(metricsToken)) {
    bad('METRICS_TOKEN', 'expected a token of visible ASCII characters without spaces (value not shown)')
  }

  // --- Error reports and alerts (issue #15) ---
  const sentry = readSentryConfig(env, bad)
  const alertSinks = readAlertSinksConfig(env, bad)
  // --- end error reports and alerts ---
  const openTelemetry = readOpenTelemetry(env, bad)

  if (problems.length > 0) throw new OpskitConfigError(problems)

  const config: OpskitConfig = {
    appName,
    appVersion,
    environment: environmentRaw as Environment,
    logLevel: logLevelRaw as LogLevel,
    logFormat: logFormatRaw as LogFormat,
    corsOrigins,
    rateLimit: { enabled, requests, periodSeconds },
  }
  if (logFile !== undefined) config.logFile = logFile
  if (logDir !== undefined) config.logDir = logDir
  if (logFileMaxBytes !== undefined) config.logFileMaxBytes = logFileMaxBytes
  if (logFileBackupCount !== undefined) config.logFileBackupCount = logFileBackupCount
  if (databaseUrl !== undefined) config.databaseUrl = databaseUrl
  if (redisUrl !== undefined) config.redisUrl = redisUrl
  if (metricsToken !== undefined) config.metricsToken = metricsToken
  // --- Error reports and alerts (issue #15) ---
  if (sentry !== undefined) config.sentry = sentry
  if (alertSinks !== undefined) config.alertSinks = alertSinks
  // --- end error reports and alerts ---
  if (openTelemetry !== undefined) config.openTelemetry = openTelemetry
  return config
}

/** OpenTelemetry's default OTLP/HTTP endpoint. */
export const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318'

/**
 * `ENABLE_OPENTELEMETRY` and `OTEL_EXPORTER_OTLP_ENDPOINT` (the trace-context block): the endpoint
 * is checked whenever it is set; its value is never echoed (it may carry credentials).
 */
function readOpenTelemetry(env: Record<string, string | undefined>, bad: (variable: string, message: string) => void): { endpoint: string } | undefined {
  let enabled = false
  const raw = read(env, 'ENABLE_OPENTELEMETRY')
  if (raw !== undefined) {
    const lower = raw.toLowerCase()
    if (TRUE_VALUES.has(lower)) enabled = true
    else if (!FALSE_VALUES.has(lower)) bad('ENABLE_OPENTELEMETRY', `expected true or false, got ${shown(raw)}`)
  }
  const endpoint = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT')
  if (endpoint !== undefined) {
    const parsed = parseServiceUrl(endpoint, ['http:', 'https:'])
    if (!parsed.ok) {
      const got = parsed.protocol !== undefined ? ` (got a ${parsed.protocol}// URL)` : ''
      bad('OTEL_EXPORTER_OTLP_ENDPOINT', `expected the http:// or https:// base URL of an OTLP/HTTP collector, such as "http://localhost:4318"${got} (value not shown)`)
      return undefined
    }
  }
  return enabled ? { endpoint: (endpoint ?? DEFAULT_OTLP_ENDPOINT).replace(/\/+$/, '') } : undefined
}
