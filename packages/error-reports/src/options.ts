import { isPlainObject, refuseUnknownKeys } from '@opskit/core'
import { FST_OPSKIT_ERROR_REPORTS_INVALID_OPTION } from './errors.js'

export interface OpskitErrorReportsOptions {
  /** Sentry DSN. Default `SENTRY_DSN`; none: the plugin does nothing and says so once at INFO. */
  dsn?: string
  /** Default `SENTRY_ENVIRONMENT`, else `ENVIRONMENT`. */
  environment?: string
  /** Default `APP_VERSION`. */
  release?: string
  /** Share of error events sent, 0–1. Default `1`. */
  sampleRate?: number
  /** Share of transactions sent, 0–1. Default `SENTRY_TRACES_SAMPLE_RATE`, else `0`. */
  tracesSampleRate?: number
  /** Report uncaught exceptions and unhandled rejections (then exit as Node would have). Default `true`. */
  uncaught?: boolean
  /** How long `close()` (and an uncaught error) waits for pending events. Default `2000` ms. */
  flushTimeoutMs?: number
}

export interface ResolvedOptions {
  dsn: string | undefined
  environment: string | undefined
  release: string | undefined
  sampleRate: number
  tracesSampleRate: number
  uncaught: boolean
  flushTimeoutMs: number
}

export const DEFAULTS = { sampleRate: 1, tracesSampleRate: 0, uncaught: true, flushTimeoutMs: 2000 } as const

const KNOWN = new Set(['dsn', 'environment', 'release', 'sampleRate', 'tracesSampleRate', 'uncaught', 'flushTimeoutMs'])

function fail(option: string, problem: string): never {
  throw new FST_OPSKIT_ERROR_REPORTS_INVALID_OPTION(option, problem)
}

function rate(value: unknown, option: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1) fail(option, 'expected a number from 0 to 1')
  return n
}

function text(value: unknown, option: string): string | undefined {
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string') fail(option, 'expected a string')
  return value
}

export function resolveOptions(opts: OpskitErrorReportsOptions, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (!isPlainObject(opts as unknown)) fail('options', 'expected an object')
  refuseUnknownKeys(opts, KNOWN, FST_OPSKIT_ERROR_REPORTS_INVALID_OPTION)
  const dsn = text(opts.dsn ?? env.SENTRY_DSN, 'dsn')
  if (dsn !== undefined) {
    let url: URL | undefined
    try {
      url = new URL(dsn)
    } catch {
      url = undefined
    }
    // Never echo the DSN: its key is a credential.
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username === '' || !/\/\d+$|\/[^/]+$/.test(url.pathname)) {
      fail('dsn', 'expected a Sentry DSN such as https://<key>@<host>/<project>')
    }
  }
  const flushTimeoutMs = opts.flushTimeoutMs ?? DEFAULTS.flushTimeoutMs
  if (typeof flushTimeoutMs !== 'number' || !Number.isInteger(flushTimeoutMs) || flushTimeoutMs < 0) fail('flushTimeoutMs', 'expected an integer of milliseconds ≥ 0')
  const uncaught = opts.uncaught ?? DEFAULTS.uncaught
  if (typeof uncaught !== 'boolean') fail('uncaught', 'expected a boolean')
  return {
    dsn,
    environment: text(opts.environment ?? (env.SENTRY_ENVIRONMENT || env.ENVIRONMENT), 'environment'),
    release: text(opts.release ?? env.APP_VERSION, 'release'),
    sampleRate: rate(opts.sampleRate ?? DEFAULTS.sampleRate, 'sampleRate'),
    tracesSampleRate: rate(opts.tracesSampleRate ?? (env.SENTRY_TRACES_SAMPLE_RATE || DEFAULTS.tracesSampleRate), 'tracesSampleRate'),
    uncaught,
    flushTimeoutMs,
  }
}
