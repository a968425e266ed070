import { isDurationMs, isPlainObject, isRoutePath, refuseUnknownKeys } from '@opskit/core'
import type { HealthCheckInput } from './types.js'

import { FST_OPSKIT_HEALTH_INVALID_OPTION } from './errors.js'

export interface OpskitHealthOptions {
  /** Path prefix of the endpoints. Default `'/health'`. */
  prefix?: string
  /** Reported by liveness. Default `process.env.APP_VERSION` or `'0.0.0'`. */
  version?: string
  /** Readiness checks by name. Default none. */
  checks?: Record<string, HealthCheckInput>
  /** Timeout of each check, ms (a check's own `timeoutMs` wins). Default `2000`. */
  timeoutMs?: number
  /** Results are reused for this long, ms; concurrent probes always share one in-flight run. Default `1000`. */
  cacheMs?: number
  /** For this long after `close()` starts, the server keeps accepting connections and serving every
   * route with readiness already answering `503 shutting_down`, so the load balancer sees it before
   * the listener closes. Needs Fastify's `return503OnClosing: false`. Default `0`. */
  shutdownDelayMs?: number
}

export interface ResolvedHealthOptions {
  prefix: string
  version: string
  checks: Record<string, HealthCheckInput>
  timeoutMs: number
  cacheMs: number
  shutdownDelayMs: number
}

const KNOWN_OPTIONS = new Set(['prefix', 'version', 'checks', 'timeoutMs', 'cacheMs', 'shutdownDelayMs'])

/** Validates and fills in defaults; throws `FST_OPSKIT_HEALTH_INVALID_OPTION` naming the option. */
export function resolveOptions(opts: OpskitHealthOptions): ResolvedHealthOptions {
  if (!isPlainObject(opts as unknown)) throw new FST_OPSKIT_HEALTH_INVALID_OPTION('options', 'expected an object')
  refuseUnknownKeys(opts, KNOWN_OPTIONS, FST_OPSKIT_HEALTH_INVALID_OPTION)
  const {
    prefix = '/health',
    version = process.env.APP_VERSION || '0.0.0',
    checks = {},
    timeoutMs = 2000,
    cacheMs = 1000,
    shutdownDelayMs = 0,
  } = opts
  if (!isRoutePath(prefix)) {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION('prefix', 'expected a path starting with "/"')
  }
  if (typeof version !== 'string' || version.length === 0) {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION('version', 'expected a non-empty string')
  }
  if (!isPlainObject(checks)) {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION('checks', 'expected an object of name → check')
  }
  if (!isDurationMs(timeoutMs)) throw new FST_OPSKIT_HEALTH_INVALID_OPTION('timeoutMs', 'expected a positive number of milliseconds')
  if (!isDurationMs(cacheMs, true)) throw new FST_OPSKIT_HEALTH_INVALID_OPTION('cacheMs', 'expected a number of milliseconds ≥ 0')
  if (!isDurationMs(shutdownDelayMs, true)) throw new FST_OPSKIT_HEALTH_INVALID_OPTION('shutdownDelayMs', 'expected a number of milliseconds ≥ 0')
  return { prefix: prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix, version, checks, timeoutMs, cacheMs, shutdownDelayMs }
}
