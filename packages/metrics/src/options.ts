import { isPlainObject, isRoutePath, refuseUnknownKeys } from '@opskit/core'
import type { Registry } from 'prom-client'

import { FST_OPSKIT_METRICS_INVALID_OPTION } from './errors.js'

/** Prometheus' default latency buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])

export interface MetricsAuthOptions {
  /** `GET /metrics` then requires `Authorization: Bearer <token>` (401 otherwise). */
  bearerToken: string
}

export interface OpskitMetricsOptions {
  /** Path of the scrape endpoint, or `false` for none (scrape `fastify.metrics.registry` yourself). Default `'/metrics'`. */
  endpoint?: string | false
  /** Prepended to every metric name this plugin and its helpers create (`myapp_`). Default `''`. */
  prefix?: string
  /** Collect prom-client's process metrics (CPU, memory, event loop, GC, handles). Default `true`. */
  defaultMetrics?: boolean
  /** Upper bounds (seconds) of `http_request_duration_seconds`. Default `[0.005 … 10]` (Prometheus' defaults). */
  buckets?: number[]
  /** Protect the scrape endpoint with a bearer token. Default none (open). */
  auth?: MetricsAuthOptions
  /** A prom-client `Registry` to use. Default: a new one per Fastify instance (never the global registry). */
  registry?: Registry
}

export interface ResolvedMetricsOptions {
  endpoint: string | false
  prefix: string
  defaultMetrics: boolean
  buckets: number[]
  bearerToken: string | undefined
  registry: Registry | undefined
}

const METRIC_NAME_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

const AUTH_OPTIONS = new Set(['bearerToken'])
const KNOWN_OPTIONS = new Set(['endpoint', 'prefix', 'defaultMetrics', 'buckets', 'auth', 'registry'])

/** Validates and fills in defaults; throws `FST_OPSKIT_METRICS_INVALID_OPTION` naming the option. */
export function resolveOptions(opts: OpskitMetricsOptions): ResolvedMetricsOptions {
  if (!isPlainObject(opts as unknown)) throw new FST_OPSKIT_METRICS_INVALID_OPTION('options', 'expected an object')
  refuseUnknownKeys(opts, KNOWN_OPTIONS, FST_OPSKIT_METRICS_INVALID_OPTION)
  const { endpoint = '/metrics', prefix = '', defaultMetrics = true, buckets = DEFAULT_BUCKETS, auth, registry } = opts
  if (endpoint !== false && !isRoutePath(endpoint)) {
    throw new FST_OPSKIT_METRICS_INVALID_OPTION('endpoint', 'expected a path starting with "/" or false')
  }
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME_PREFIX.test(prefix))) {
    throw new FST_OPSKIT_METRICS_INVALID_OPTION('prefix', 'expected a metric name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]*')
  }
  if (typeof defaultMetrics !== 'boolean') {
    throw new FST_OPSKIT_METRICS_INVALID_OPTION('defaultMetrics', 'expected a boolean')
  }
  if (!Array.isArray(buckets) || buckets.length === 0) {
    throw new FST_OPSKIT_METRICS_INVALID_OPTION('buckets', 'expected a non-empty array of increasing positive numbers (seconds)')
  }
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]
    if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0 || (i > 0 && b <= (buckets[i - 1] as number))) {
      throw new FST_OPSKIT_METRICS_INVALID_OPTION('buckets', 'expected a non-empty array of increasing positive numbers (seconds)')
    }
  }
  let bearerToken: string | undefined
  if (auth !== undefined) {
    if (!isPlainObject(auth)) throw new FST_OPSKIT_METRICS_INVALID_OPTION('auth', 'expected { bearerToken }')
    refuseUnknownKeys(auth, AUTH_OPTIONS, FST_OPSKIT_METRICS_INVALID_OPTION, 'auth.')
    if (typeof auth.bearerToken !== 'string' || auth.bearerToken.length === 0) {
      throw new FST_OPSKIT_METRICS_INVALID_OPTION('auth.bearerToken', 'expected a non-empty string')
    }
    bearerToken = auth.bearerToken
  }
  if (registry !== undefined && (registry === null || typeof (registry as Registry).metrics !== 'function' || typeof (registry as Registry).registerMetric !== 'function')) {
    throw new FST_OPSKIT_METRICS_INVALID_OPTION('registry', 'expected a prom-client Registry')
  }
  return { endpoint, prefix, defaultMetrics, buckets: [...buckets], bearerToken, registry }
}
