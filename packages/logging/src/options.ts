import type { Writable } from 'node:stream'
import { FST_LOGGING_INVALID_OPTION } from './errors.js'

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
export type LogFormat = 'json' | 'pretty'

/** A rotating log file (rotation by size through pino-roll). */
export interface LogFileOptions {
  /** Base path, e.g. `logs/app.log`; pino-roll numbers the files: `logs/app.1.log`, `logs/app.2.log`… */
  path: string
  /** Rotate when the active file reaches this size: bytes, or a string such as `'512k'`, `'10m'`, `'1g'`. Default `'10m'`. */
  maxSize?: string | number
  /** Files kept, the active one included (at least 2); older ones are deleted. Default `10`. */
  maxFiles?: number
}

/** The minimal stream a logger writes to: one newline-terminated JSON line per `write()`. */
export interface LogDestination {
  write(line: string): unknown
  flush?(cb?: (err?: Error | null) => void): void
  flushSync?(): void
  end?(): void
}

export interface CreateLoggerOptions {
  /** Lowest level written. Default `process.env.LOG_LEVEL` or `'info'`. */
  level?: LogLevel
  /**
   * `'json'` (one JSON object per line) or `'pretty'` (human-readable, via pino-pretty). Default
   * `process.env.LOG_FORMAT`; when unset, `'pretty'` if stdout is a TTY, else `'json'`. A log file
   * always gets JSON.
   */
  format?: LogFormat
  /** Also write JSON lines to a rotating file. Default `process.env.LOG_FILE` (a path). */
  file?: string | LogFileOptions
  /** Extra redaction paths (`'ssn'` anywhere, `'user.address.street'`, `'headers.*'`, `'req["x-key"]'`). Default `[]`. */
  redact?: string[]
  /** The `logger` field of every line. Default `'app'`. */
  name?: string
  /** Stream that replaces stdout (tests, custom sinks). Default: stdout. */
  destination?: LogDestination | Writable
  /** Write to stdout (or `destination`). Set `false` with `file` to write to the file only. Default `true`. */
  stdout?: boolean
}

export interface ResolvedFileOptions {
  path: string
  maxSizeBytes: number
  maxFiles: number
}

export interface ResolvedLoggerOptions {
  level: LogLevel
  format: LogFormat
  file: ResolvedFileOptions | undefined
  redact: string[]
  name: string
  destination: LogDestination | undefined
  stdout: boolean
}

export const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']
const FORMATS: readonly LogFormat[] = ['json', 'pretty']
const DEFAULT_MAX_SIZE = '10m'
const DEFAULT_MAX_FILES = 10

function envValue(name: string): string | undefined {
  const value = process.env[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

/** `1048576`, `'512b'`, `'64k'`, `'10m'`, `'1g'` → bytes; `undefined` when unparseable. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? Math.floor(value) : undefined
  const match = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(value.trim())
  if (match === null) return undefined
  const unit = (match[2] ?? '').toLowerCase()
  const multiplier = unit === 'g' ? 1024 ** 3 : unit === 'm' ? 1024 ** 2 : unit === 'k' ? 1024 : 1
  const bytes = Math.floor(Number(match[1]) * multiplier)
  return bytes > 0 ? bytes : undefined
}

function resolveFile(file: string | LogFileOptions | undefined): ResolvedFileOptions | undefined {
  if (file === undefined) return undefined
  if (typeof file === 'string') {
    if (file.trim() === '') throw new FST_LOGGING_INVALID_OPTION('file', 'expected a non-empty path or { path, maxSize, maxFiles }')
    return { path: file, maxSizeBytes: parseSize(DEFAULT_MAX_SIZE) as number, maxFiles: DEFAULT_MAX_FILES }
  }
  if (file === null || typeof file !== 'object' || typeof file.path !== 'string' || file.path.trim() === '') {
    throw new FST_LOGGING_INVALID_OPTION('file', 'expected a non-empty path or { path, maxSize, maxFiles }')
  }
  const { path, maxSize = DEFAULT_MAX_SIZE, maxFiles = DEFAULT_MAX_FILES } = file
  const maxSizeBytes = typeof maxSize === 'string' || typeof maxSize === 'number' ? parseSize(maxSize) : undefined
  if (maxSizeBytes === undefined) {
    throw new FST_LOGGING_INVALID_OPTION('file.maxSize', `expected a size such as '10m', '512k' or a number of bytes, got ${JSON.stringify(maxSize)}`)
  }
  if (!Number.isInteger(maxFiles) || maxFiles < 2) {
    throw new FST_LOGGING_INVALID_OPTION('file.maxFiles', `expected an integer ≥ 2 (the active file and at least one rotated), got ${JSON.stringify(maxFiles)}`)
  }
  return { path, maxSizeBytes, maxFiles }
}

/** Validates `createLogger()` options and fills the defaults (environment variables included). */
export function resolveLoggerOptions(opts: CreateLoggerOptions): ResolvedLoggerOptions {
  if (opts === null || typeof opts !== 'object') {
    throw new FST_LOGGING_INVALID_OPTION('options', 'expected an object')
  }
  const {
    level = (envValue('LOG_LEVEL')?.toLowerCase() as LogLevel | undefined) ?? 'info',
    format = (envValue('LOG_FORMAT')?.toLowerCase() as LogFormat | undefined) ?? (process.stdout.isTTY === true ? 'pretty' : 'json'),
    file = envValue('LOG_FILE'),
    redact = [],
    name = 'app',
    destination,
    stdout = true,
  } = opts
  if (typeof level !== 'string' || !LEVELS.includes(level)) {
    throw new FST_LOGGING_INVALID_OPTION('level', `expected one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`)
  }
  if (typeof format !== 'string' || !FORMATS.includes(format)) {
    throw new FST_LOGGING_INVALID_OPTION('format', `expected 'json' or 'pretty', got ${JSON.stringify(format)}`)
  }
  if (!Array.isArray(redact) || redact.some((p) => typeof p !== 'string' || p.trim() === '')) {
    throw new FST_LOGGING_INVALID_OPTION('redact', 'expected an array of non-empty path strings')
  }
  if (typeof name !== 'string' || name === '') {
    throw new FST_LOGGING_INVALID_OPTION('name', 'expected a non-empty string')
  }
  if (destination !== undefined && (destination === null || typeof (destination as LogDestination).write !== 'function')) {
    throw new FST_LOGGING_INVALID_OPTION('destination', 'expected a stream with a write(line) method')
  }
  if (typeof stdout !== 'boolean') {
    throw new FST_LOGGING_INVALID_OPTION('stdout', 'expected a boolean')
  }
  const resolvedFile = resolveFile(file)
  if (!stdout && resolvedFile === undefined) {
    throw new FST_LOGGING_INVALID_OPTION('stdout', 'false needs a `file`, or lines would go nowhere')
  }
  return {
    level,
    format,
    file: resolvedFile,
    redact: [...redact],
    name,
    destination: destination as LogDestination | undefined,
    stdout,
  }
}
