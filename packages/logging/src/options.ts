import { isAbsolute, join } from 'node:path'
import type { Writable } from 'node:stream'
import type { FastifyRequest } from 'fastify'
import { isHeaderName, isPlainObject, isRoutePath, refuseUnknownKeys } from '@opskit/core'
import { FST_OPSKIT_LOGGING_INVALID_OPTION } from './errors.js'

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
  /** Gzip each file once it is rotated out (`logs/app.1.log` → `logs/app.1.log.gz`). Default `false`. */
  compress?: boolean
  /** Delete rotated files (gzipped or not) last written more than this many days ago. Default: kept until `maxFiles` pushes them out. */
  retentionDays?: number
}

/** A named log channel: `getLogger(name)` writes to its own rotating file (and stdout), not to the main file. */
export interface LogChannelOptions {
  /** The channel's file, e.g. `'webhooks.log'`; a relative path is under `dir` / `LOG_DIR` when set. */
  file: string
  /** Lowest level written to this channel (its file and stdout). Default: the logger's `level`. */
  level?: LogLevel
  /** As `file.maxSize`. Default `'10m'`. */
  maxSize?: string | number
  /** As `file.maxFiles`. Default `10`. */
  maxFiles?: number
  /** As `file.compress`. Default `false`. */
  compress?: boolean
  /** As `file.retentionDays`. Default: none. */
  retentionDays?: number
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
  /**
   * Also write JSON lines to a rotating file. Default `process.env.LOG_FILE` (a path); when that is
   * unset too and `dir` is set, `<dir>/<name>.log`. Its `maxSize` / `maxFiles` default to
   * `LOG_FILE_MAX_BYTES` / `LOG_FILE_BACKUP_COUNT + 1` when those are set.
   */
  file?: string | LogFileOptions
  /** Directory that relative file paths (main file and channels) are resolved against. Default `process.env.LOG_DIR`. */
  dir?: string
  /** Named channels: `getLogger('<name>')` writes to the channel's own file and stdout, not to `file`. Default `{}`. */
  channels?: Record<string, LogChannelOptions>
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
  compress: boolean
  /** Undefined: no age limit. */
  retentionDays: number | undefined
}

export interface ResolvedChannelOptions {
  name: string
  level: LogLevel
  file: ResolvedFileOptions
}

export interface ResolvedLoggerOptions {
  level: LogLevel
  format: LogFormat
  file: ResolvedFileOptions | undefined
  channels: ResolvedChannelOptions[]
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

interface FileDefaults {
  maxSize: string | number
  maxFiles: number
  dir: string | undefined
}

const LOGGER_KEYS = new Set(['level', 'format', 'file', 'dir', 'channels', 'redact', 'name', 'destination', 'stdout'])
const FILE_KEYS = new Set(['path', 'maxSize', 'maxFiles', 'compress', 'retentionDays'])
const CHANNEL_KEYS = new Set(['file', 'level', 'maxSize', 'maxFiles', 'compress', 'retentionDays'])

function underDir(path: string, dir: string | undefined): string {
  return dir === undefined || isAbsolute(path) ? path : join(dir, path)
}

/** Validates rotation settings; `option` prefixes the names in errors (`file`, `channels.webhooks`). */
function resolveRotation(
  option: string,
  path: string,
  spec: { maxSize?: unknown; maxFiles?: unknown; compress?: unknown; retentionDays?: unknown },
  defaults: FileDefaults,
): ResolvedFileOptions {
  const { maxSize = defaults.maxSize, maxFiles = defaults.maxFiles, compress = false, retentionDays } = spec
  const maxSizeBytes = typeof maxSize === 'string' || typeof maxSize === 'number' ? parseSize(maxSize) : undefined
  if (maxSizeBytes === undefined) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION(`${option}.maxSize`, `expected a size such as '10m', '512k' or a number of bytes, got ${JSON.stringify(maxSize)}`)
  }
  if (!Number.isInteger(maxFiles) || (maxFiles as number) < 2) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION(`${option}.maxFiles`, `expected an integer ≥ 2 (the active file and at least one rotated), got ${JSON.stringify(maxFiles)}`)
  }
  if (typeof compress !== 'boolean') throw new FST_OPSKIT_LOGGING_INVALID_OPTION(`${option}.compress`, 'expected a boolean')
  if (retentionDays !== undefined && (typeof retentionDays !== 'number' || !Number.isFinite(retentionDays) || retentionDays <= 0)) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION(`${option}.retentionDays`, `expected a number of days > 0, got ${JSON.stringify(retentionDays)}`)
  }
  return { path: underDir(path, defaults.dir), maxSizeBytes, maxFiles: maxFiles as number, compress, retentionDays }
}

function resolveFile(file: string | LogFileOptions | undefined, defaults: FileDefaults): ResolvedFileOptions | undefined {
  if (file === undefined) return undefined
  if (typeof file === 'string') {
    if (file.trim() === '') throw new FST_OPSKIT_LOGGING_INVALID_OPTION('file', 'expected a non-empty path or { path, maxSize, maxFiles }')
    return resolveRotation('file', file, {}, defaults)
  }
  if (file === null || typeof file !== 'object' || typeof file.path !== 'string' || file.path.trim() === '') {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('file', 'expected a non-empty path or { path, maxSize, maxFiles }')
  }
  refuseUnknownKeys(file, FILE_KEYS, FST_OPSKIT_LOGGING_INVALID_OPTION, 'file.')
  return resolveRotation('file', file.path, file, defaults)
}

function resolveChannels(channels: unknown, level: LogLevel, dir: string | undefined): ResolvedChannelOptions[] {
  if (channels === undefined) return []
  if (!isPlainObject(channels)) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('channels', 'expected an object { <name>: { file, level?, maxSize?, maxFiles?, compress?, retentionDays? } }')
  }
  const resolved: ResolvedChannelOptions[] = []
  for (const [name, spec] of Object.entries(channels as Record<string, unknown>)) {
    const option = `channels.${name}`
    if (name === '') throw new FST_OPSKIT_LOGGING_INVALID_OPTION('channels', 'a channel name must be non-empty')
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new FST_OPSKIT_LOGGING_INVALID_OPTION(option, 'expected { file, level?, maxSize?, maxFiles?, compress?, retentionDays? }')
    const channel = spec as LogChannelOptions
    refuseUnknownKeys(channel, CHANNEL_KEYS, FST_OPSKIT_LOGGING_INVALID_OPTION, `${option}.`)
    if (typeof channel.file !== 'string' || channel.file.trim() === '') throw new FST_OPSKIT_LOGGING_INVALID_OPTION(`${option}.file`, 'expected a non-empty path')
    const channelLevel = channel.level ?? level
    if (typeof channelLevel !== 'string' || !LEVELS.includes(channelLevel)) {
      throw new FST_OPSKIT_LOGGING_INVALID_OPTION(`${option}.level`, `expected one of ${LEVELS.join(', ')}, got ${JSON.stringify(channelLevel)}`)
    }
    const file = resolveRotation(option, channel.file, channel, { maxSize: DEFAULT_MAX_SIZE, maxFiles: DEFAULT_MAX_FILES, dir })
    resolved.push({ name, level: channelLevel, file })
  }
  const paths = new Set<string>()
  for (const channel of resolved) {
    if (paths.has(channel.file.path)) throw new FST_OPSKIT_LOGGING_INVALID_OPTION(`channels.${channel.name}.file`, `${channel.file.path} is used by another channel`)
    paths.add(channel.file.path)
  }
  return resolved
}

/** `LOG_FILE_MAX_BYTES` and `LOG_FILE_BACKUP_COUNT` (rotated files kept, so `maxFiles` is one more). */
function fileDefaultsFromEnv(dir: string | undefined): FileDefaults {
  let maxSize: string | number = DEFAULT_MAX_SIZE
  let maxFiles = DEFAULT_MAX_FILES
  const bytes = envValue('LOG_FILE_MAX_BYTES')
  if (bytes !== undefined) {
    const parsed = parseSize(bytes)
    if (parsed === undefined) throw new FST_OPSKIT_LOGGING_INVALID_OPTION('LOG_FILE_MAX_BYTES', `expected a number of bytes (or '10m'), got ${JSON.stringify(bytes)}`)
    maxSize = parsed
  }
  const backups = envValue('LOG_FILE_BACKUP_COUNT')
  if (backups !== undefined) {
    if (!/^[1-9][0-9]{0,5}$/.test(backups)) throw new FST_OPSKIT_LOGGING_INVALID_OPTION('LOG_FILE_BACKUP_COUNT', `expected an integer ≥ 1, got ${JSON.stringify(backups)}`)
    maxFiles = Number(backups) + 1
  }
  return { maxSize, maxFiles, dir }
}

/** Validates `createLogger()` options and fills the defaults (environment variables included). */
export function resolveLoggerOptions(opts: CreateLoggerOptions): ResolvedLoggerOptions {
  if (!isPlainObject(opts as unknown)) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('options', 'expected an object')
  }
  refuseUnknownKeys(opts, LOGGER_KEYS, FST_OPSKIT_LOGGING_INVALID_OPTION, '', false)
  const {
    level = (envValue('LOG_LEVEL')?.toLowerCase() as LogLevel | undefined) ?? 'info',
    format = (envValue('LOG_FORMAT')?.toLowerCase() as LogFormat | undefined) ?? (process.stdout.isTTY === true ? 'pretty' : 'json'),
    dir = envValue('LOG_DIR'),
    redact = [],
    name = 'app',
    destination,
    stdout = true,
    channels,
  } = opts
  if (dir !== undefined && (typeof dir !== 'string' || dir.trim() === '')) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('dir', 'expected a directory path')
  }
  if (typeof level !== 'string' || !LEVELS.includes(level)) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('level', `expected one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`)
  }
  if (typeof format !== 'string' || !FORMATS.includes(format)) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('format', `expected 'json' or 'pretty', got ${JSON.stringify(format)}`)
  }
  if (!Array.isArray(redact) || redact.some((p) => typeof p !== 'string' || p.trim() === '')) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('redact', 'expected an array of non-empty path strings')
  }
  if (typeof name !== 'string' || name === '') {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('name', 'expected a non-empty string')
  }
  if (destination !== undefined && (destination === null || typeof (destination as LogDestination).write !== 'function')) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('destination', 'expected a stream with a write(line) method')
  }
  if (typeof stdout !== 'boolean') {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('stdout', 'expected a boolean')
  }
  const file = opts.file ?? envValue('LOG_FILE') ?? (dir !== undefined ? `${name}.log` : undefined)
  const resolvedFile = resolveFile(file, fileDefaultsFromEnv(dir))
  const resolvedChannels = resolveChannels(channels, level, dir)
  if (resolvedFile !== undefined && resolvedChannels.some((channel) => channel.file.path === resolvedFile.path)) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('channels', `${resolvedFile.path} is the main file`)
  }
  if (!stdout && resolvedFile === undefined) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('stdout', 'false needs a `file`, or lines would go nowhere')
  }
  return {
    level,
    format,
    file: resolvedFile,
    channels: resolvedChannels,
    redact: [...redact],
    name,
    destination: destination as LogDestination | undefined,
    stdout,
  }
}

/** Per-request CPU and memory figures on the `request completed` line, for requests that ask and are allowed. */
export interface ResourceTrackingOptions {
  /** Request header that asks for tracking with the value `1` or `true`. Default `'x-debug-resource-tracking'`. */
  header?: string
  /** Decides whether this request may turn tracking on (e.g. only admins, only internal IPs). Required. */
  allow: (request: FastifyRequest) => boolean
}

export interface OpskitLoggingOptions {
  /**
   * Paths not request-logged: exact (`/metrics`) or a prefix ending in `*` (`/health/*`).
   * Default `['/health', '/health/*', '/metrics']`.
   */
  ignorePaths?: string[]
  /** Off by default. */
  resourceTracking?: ResourceTrackingOptions
  /** Level of the `request completed` line (5xx responses always log at `error`). Default `'info'`. */
  level?: Exclude<LogLevel, 'silent' | 'fatal'>
}

const DEFAULT_IGNORE_PATHS = ['/health', '/health/*', '/metrics']
const COMPLETED_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const
const PLUGIN_KEYS = new Set(['ignorePaths', 'resourceTracking', 'level'])
const TRACKING_KEYS = new Set(['header', 'allow'])

export interface ResolvedPluginOptions {
  exact: Set<string>
  prefixes: string[]
  tracking: { header: string; allow: (request: FastifyRequest) => boolean } | undefined
  level: (typeof COMPLETED_LEVELS)[number]
}

/** Validates the plugin's options (unknown keys refused) and fills the defaults. */
export function resolvePluginOptions(opts: OpskitLoggingOptions): ResolvedPluginOptions {
  if (!isPlainObject(opts as unknown)) throw new FST_OPSKIT_LOGGING_INVALID_OPTION('options', 'expected an object')
  refuseUnknownKeys(opts, PLUGIN_KEYS, FST_OPSKIT_LOGGING_INVALID_OPTION)
  const { ignorePaths = DEFAULT_IGNORE_PATHS, resourceTracking, level = 'info' } = opts
  if (!Array.isArray(ignorePaths) || !ignorePaths.every(isRoutePath)) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('ignorePaths', 'expected an array of paths starting with "/" (a trailing "*" matches a prefix)')
  }
  const exact = new Set<string>()
  const prefixes: string[] = []
  for (const path of ignorePaths) {
    if (path.endsWith('*')) prefixes.push(path.slice(0, -1))
    else exact.add(path)
  }
  if (!(COMPLETED_LEVELS as readonly string[]).includes(level)) {
    throw new FST_OPSKIT_LOGGING_INVALID_OPTION('level', `expected one of ${COMPLETED_LEVELS.join(', ')}, got ${JSON.stringify(level)}`)
  }
  let tracking: ResolvedPluginOptions['tracking']
  if (resourceTracking !== undefined) {
    if (!isPlainObject(resourceTracking as unknown)) {
      throw new FST_OPSKIT_LOGGING_INVALID_OPTION('resourceTracking', 'expected { header?, allow(request) }')
    }
    refuseUnknownKeys(resourceTracking, TRACKING_KEYS, FST_OPSKIT_LOGGING_INVALID_OPTION, 'resourceTracking.')
    const { header = 'x-debug-resource-tracking', allow } = resourceTracking
    if (!isHeaderName(header)) {
      throw new FST_OPSKIT_LOGGING_INVALID_OPTION('resourceTracking.header', 'expected a header name')
    }
    if (typeof allow !== 'function') {
      throw new FST_OPSKIT_LOGGING_INVALID_OPTION('resourceTracking.allow', 'expected a function (request) => boolean')
    }
    tracking = { header: header.toLowerCase(), allow }
  }
  return { exact, prefixes, tracking, level }
}
