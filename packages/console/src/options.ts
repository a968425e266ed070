import type { FastifyRequest } from 'fastify'
import { createOptionError, isDurationMs, isPlainObject, refuseUnknownKeys } from '@opskit/core'

export const FST_OPSKIT_CONSOLE_INVALID_OPTION = createOptionError('FST_OPSKIT_CONSOLE_INVALID_OPTION', '@opskit/console')

export interface OpskitConsoleOptions {
  /** Path of the page; its JSON API lives under `<prefix>/api/`. Default `'/ops'`. */
  prefix?: string
  /** Who may open the console (as the audit list route): anything but `true` is a 401 without an
   * actor, a 403 with one. Without it nothing is registered. */
  authorize?: (request: FastifyRequest) => boolean | Promise<boolean>
  /** How often the page refreshes itself, ms. Default `5000`. */
  refreshMs?: number
  /** Health results are reused this long, ms, so watching the page never runs the checks more
   * often than this (health's own `cacheMs` applies below it). Default `5000`. */
  healthCacheMs?: number
  /** How many of the slowest requests of the last hour are kept (an `onResponse` hook compares each
   * duration with the slowest N of its minute). `0`: no hook, no slow-request list. Default `10`. */
  slowRequests?: number
  /** Shown in the page's title bar. Default `APP_NAME` or `'opskit'`. */
  title?: string
}

export interface ResolvedConsoleOptions {
  prefix: string
  authorize: ((request: FastifyRequest) => boolean | Promise<boolean>) | undefined
  refreshMs: number
  healthCacheMs: number
  slowRequests: number
  title: string
}

const DEFAULTS = {
  prefix: '/ops',
  refreshMs: 5000,
  healthCacheMs: 5000,
  slowRequests: 10,
} as const

const KNOWN_KEYS = new Set(['prefix', 'authorize', 'refreshMs', 'healthCacheMs', 'slowRequests', 'title'])

export function resolveOptions(opts: OpskitConsoleOptions = {}): ResolvedConsoleOptions {
  if (!isPlainObject(opts as unknown)) throw new FST_OPSKIT_CONSOLE_INVALID_OPTION('options', 'expected an object')
  refuseUnknownKeys(opts, KNOWN_KEYS, FST_OPSKIT_CONSOLE_INVALID_OPTION)
  const {
    prefix = DEFAULTS.prefix,
    authorize,
    refreshMs = DEFAULTS.refreshMs,
    healthCacheMs = DEFAULTS.healthCacheMs,
    slowRequests = DEFAULTS.slowRequests,
    title = process.env.APP_NAME || 'opskit',
  } = opts
  if (typeof prefix !== 'string' || !/^\/[A-Za-z0-9._~/-]*$/.test(prefix)) {
    throw new FST_OPSKIT_CONSOLE_INVALID_OPTION('prefix', 'expected a path starting with "/"')
  }
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw new FST_OPSKIT_CONSOLE_INVALID_OPTION('authorize', 'expected a function (request) => boolean | Promise<boolean>')
  }
  if (!isDurationMs(refreshMs) || refreshMs < 500) throw new FST_OPSKIT_CONSOLE_INVALID_OPTION('refreshMs', 'expected a number of milliseconds ≥ 500')
  if (!isDurationMs(healthCacheMs, true)) throw new FST_OPSKIT_CONSOLE_INVALID_OPTION('healthCacheMs', 'expected a number of milliseconds ≥ 0')
  if (!Number.isInteger(slowRequests) || slowRequests < 0 || slowRequests > 1000) {
    throw new FST_OPSKIT_CONSOLE_INVALID_OPTION('slowRequests', 'expected an integer from 0 to 1000')
  }
  if (typeof title !== 'string' || title.length === 0 || title.length > 128) {
    throw new FST_OPSKIT_CONSOLE_INVALID_OPTION('title', 'expected 1 to 128 characters')
  }
  const trimmed = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
  if (trimmed === '/') throw new FST_OPSKIT_CONSOLE_INVALID_OPTION('prefix', 'expected a path below "/", such as "/ops"')
  return { prefix: trimmed, authorize, refreshMs, healthCacheMs, slowRequests, title }
}
