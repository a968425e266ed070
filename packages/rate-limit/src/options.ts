import type { FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { isDurationMs, isPlainObject, isPositiveInt, isRedisLike, refuseUnknownKeys } from '@opskit/core'
import { parseDuration } from './duration.js'
import { FST_OPSKIT_RATE_LIMIT_INVALID_OPTION } from './errors.js'

export type AllowListFunction = (request: FastifyRequest, key: string) => boolean | Promise<boolean>

export interface OpskitRateLimitOptions {
  /** Turn limiting on. When `false` the plugin registers nothing (options are still validated). Default `true`. */
  enabled?: boolean
  /** Requests per window for a key that no tier covers. Default `100`. */
  max?: number
  /** Window length: milliseconds or a string such as `'1 minute'`, `'30s'`. Default `60000`. */
  timeWindow?: number | string
  /**
   * Requests per window by actor role (`actor.role`); the key `anonymous` applies to requests
   * without an actor. A role not listed (or an actor without a role) gets `max`. Default none.
   */
  tiers?: Record<string, number>
  /**
   * Shared counters in Redis: an ioredis instance (yours to close) or a URL (the plugin creates,
   * bounds and closes the client). Default none: in-memory counters, per process.
   */
  redis?: Redis | string
  /** When the store fails: `true` lets the request through (one ERROR log per outage), `false` answers `503`. Default `true`. */
  failOpen?: boolean
  /** Keys (`user:<id>`) or client IPs never limited, or `(request, key) => boolean | Promise<boolean>`. Default none. */
  allowList?: readonly string[] | AllowListFunction
  /** Prefix of every Redis key. Default `'opskit:rate-limit:'`. */
  keyPrefix?: string
  /** Upper bound, in ms, on one Redis call; a slower answer counts as a store failure. Default `200`. */
  redisTimeoutMs?: number
  /** Distinct keys the in-memory store keeps (least recently seen dropped first). Default `10000`. */
  cache?: number
  /** Route paths never limited; an entry ending in `*` is a prefix. Default `['/health*', '/metrics']`. */
  exemptPaths?: readonly string[]
  /** IPv6 clients are keyed by their network of this prefix length (0–128). Default `64`. */
  ipv6Subnet?: number
  /**
   * Which rate-limit fields a limited response carries: `'x-ratelimit'` (`x-ratelimit-limit`,
   * `-remaining`, `-reset`), `'draft'` (the IETF `RateLimit-Policy` and `RateLimit` fields,
   * draft-ietf-httpapi-ratelimit-headers, as RFC 9651 Structured Fields) or `'both'`. Default `'x-ratelimit'`.
   */
  headers?: 'x-ratelimit' | 'draft' | 'both'
  /**
   * `'fixed'`: a window per key from its first request; `'sliding'`: the sliding-window counter
   * (the previous window's count weighted by the part of it still inside the window). Default `'fixed'`.
   */
  algorithm?: 'fixed' | 'sliding'
  /**
   * Never reject: a request past the limit goes through, and is logged, counted
   * (`rate_limit_shadow_rejections_total`) and recorded (`rate_limit_hit`) with `shadow: true`. Default `false`.
   */
  shadow?: boolean
}

/**
 * `config: { rateLimit: {...} }` on a route. Unset fields inherit the plugin's; a route `max` without
 * `tiers` applies to everyone. `name` is its policy name in the draft headers (default: the route path).
 */
export interface RouteRateLimitOptions {
  name?: string
  max?: number
  timeWindow?: number | string
  tiers?: Record<string, number>
}

/** One of several policies of a route: `config: { rateLimit: [{ name, max, timeWindow }, …] }`. */
export interface RoutePolicyOptions extends RouteRateLimitOptions {
  name: string
}

export interface ResolvedOptions {
  enabled: boolean
  max: number
  timeWindow: number
  tiers: Map<string, number> | undefined
  redis: Redis | string | undefined
  failOpen: boolean
  allowList: Set<string> | AllowListFunction | undefined
  keyPrefix: string
  redisTimeoutMs: number
  cache: number
  exemptPaths: readonly string[]
  ipv6Subnet: number
  headers: 'x-ratelimit' | 'draft' | 'both'
  algorithm: 'fixed' | 'sliding'
  shadow: boolean
}

export const DEFAULTS = {
  enabled: true,
  max: 100,
  timeWindow: 60_000,
  failOpen: true,
  keyPrefix: 'opskit:rate-limit:',
  redisTimeoutMs: 200,
  cache: 10_000,
  exemptPaths: ['/health*', '/metrics'] as readonly string[],
  ipv6Subnet: 64,
  headers: 'x-ratelimit',
  algorithm: 'fixed',
  shadow: false,
} as const

const HEADERS = new Set(['x-ratelimit', 'draft', 'both'])
const ALGORITHMS = new Set(['fixed', 'sliding'])
// An RFC 9651 String holds printable ASCII only.
const POLICY_NAME = /^[\x20-\x7e]+$/

function resolvePolicyName(value: unknown, name: string): string {
  if (typeof value !== 'string' || !POLICY_NAME.test(value)) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION(name, 'expected a non-empty string of printable ASCII (a Structured Fields String)')
  return value
}

function isLimit(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0
}

function resolveMax(value: unknown, name: string): number {
  if (!isLimit(value)) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION(name, 'expected an integer >= 0')
  return value
}

function resolveWindow(value: unknown, name: string): number {
  const ms = parseDuration(value)
  if (ms === undefined) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION(name, "expected milliseconds > 0 or a duration such as '1 minute'")
  return ms
}

export function resolveTiers(value: unknown, name: string): Map<string, number> | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION(name, 'expected an object { role: requestsPerWindow }')
  }
  const tiers = new Map<string, number>()
  for (const [role, limit] of Object.entries(value)) {
    if (!isLimit(limit)) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION(`${name}.${role}`, 'expected an integer >= 0')
    tiers.set(role, limit)
  }
  return tiers
}

const KNOWN_OPTIONS = new Set([
  'enabled', 'max', 'timeWindow', 'tiers', 'redis', 'failOpen', 'allowList', 'keyPrefix',
  'redisTimeoutMs', 'cache', 'exemptPaths', 'ipv6Subnet', 'headers', 'algorithm', 'shadow',
])

/** Validates and fills in defaults; throws `FST_OPSKIT_RATE_LIMIT_INVALID_OPTION` naming the option. */
export function resolveOptions(opts: OpskitRateLimitOptions): ResolvedOptions {
  if (!isPlainObject(opts as unknown)) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('options', 'expected an object')
  refuseUnknownKeys(opts, KNOWN_OPTIONS, FST_OPSKIT_RATE_LIMIT_INVALID_OPTION)
  const {
    enabled = DEFAULTS.enabled,
    max = DEFAULTS.max,
    timeWindow = DEFAULTS.timeWindow,
    tiers,
    redis,
    failOpen = DEFAULTS.failOpen,
    allowList,
    keyPrefix = DEFAULTS.keyPrefix,
    redisTimeoutMs = DEFAULTS.redisTimeoutMs,
    cache = DEFAULTS.cache,
    exemptPaths = DEFAULTS.exemptPaths,
    ipv6Subnet = DEFAULTS.ipv6Subnet,
    headers = DEFAULTS.headers,
    algorithm = DEFAULTS.algorithm,
    shadow = DEFAULTS.shadow,
  } = opts

  if (typeof enabled !== 'boolean') throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('enabled', 'expected a boolean')
  if (typeof failOpen !== 'boolean') throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('failOpen', 'expected a boolean')

  if (redis !== undefined) {
    if (typeof redis === 'string') {
      if (!/^rediss?:\/\//.test(redis)) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('redis', 'expected a redis:// or rediss:// URL or an ioredis instance')
    } else if (!isRedisLike<Redis>(redis)) {
      throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('redis', 'expected a redis:// URL or an ioredis instance')
    }
  }

  let resolvedAllowList: Set<string> | AllowListFunction | undefined
  if (typeof allowList === 'function') resolvedAllowList = allowList
  else if (Array.isArray(allowList) && allowList.every((k) => typeof k === 'string')) resolvedAllowList = new Set(allowList)
  else if (allowList !== undefined) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('allowList', 'expected an array of IPs/keys or a function (request, key) => boolean')

  if (typeof keyPrefix !== 'string') throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('keyPrefix', 'expected a string')
  if (!isDurationMs(redisTimeoutMs)) {
    throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('redisTimeoutMs', 'expected milliseconds > 0')
  }
  if (!isPositiveInt(cache)) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('cache', 'expected an integer >= 1')
  if (!Array.isArray(exemptPaths) || !exemptPaths.every((p) => typeof p === 'string' && p.startsWith('/'))) {
    throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('exemptPaths', "expected an array of paths starting with '/'")
  }
  if (!Number.isInteger(ipv6Subnet) || ipv6Subnet < 0 || ipv6Subnet > 128) {
    throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('ipv6Subnet', 'expected an integer 0-128')
  }

  if (!HEADERS.has(headers)) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('headers', "expected 'x-ratelimit', 'draft' or 'both'")
  if (!ALGORITHMS.has(algorithm)) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('algorithm', "expected 'fixed' or 'sliding'")
  if (typeof shadow !== 'boolean') throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION('shadow', 'expected a boolean')
  const resolvedTiers = resolveTiers(tiers, 'tiers')
  // tier names are policy names in the draft headers (only there must they be printable ASCII)
  if (resolvedTiers !== undefined && headers !== 'x-ratelimit') for (const role of resolvedTiers.keys()) resolvePolicyName(role, `tiers.${role}`)

  return {
    enabled,
    max: resolveMax(max, 'max'),
    timeWindow: resolveWindow(timeWindow, 'timeWindow'),
    tiers: resolvedTiers,
    redis,
    failOpen,
    allowList: resolvedAllowList,
    keyPrefix,
    redisTimeoutMs: Math.trunc(redisTimeoutMs),
    cache,
    exemptPaths,
    ipv6Subnet,
    headers,
    algorithm,
    shadow,
  }
}

/** The limits of one policy: the plugin's, or a route's `config.rateLimit` merged over them. */
export interface RouteLimits {
  max: number
  timeWindow: number
  tiers: Map<string, number> | undefined
}

/** One policy a route applies: its limits, its name in the draft headers, its counters' namespace. */
export interface Policy extends RouteLimits {
  /** The policy name; `undefined` for the plugin's own policy, named after the tier that applies. */
  name: string | undefined
  /** Prepended to the key ('' for the plugin's own policy: one counter per key across its routes). */
  namespace: string
}

const ROUTE_KEYS = new Set(['name', 'max', 'timeWindow', 'tiers'])

function resolveRouteLimits(config: unknown, global: RouteLimits, field: string, route: string, draft: boolean): RouteLimits & { name: string | undefined } {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION(`${field} (${route})`, 'expected false, an object { name?, max?, timeWindow?, tiers? } or an array of { name, max?, timeWindow?, tiers? }')
  }
  const routeConfig = config as RouteRateLimitOptions
  for (const key of Object.keys(routeConfig)) {
    if (!ROUTE_KEYS.has(key)) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION(`${field}.${key} (${route})`, 'unknown option; expected name, max, timeWindow or tiers')
  }
  const name = routeConfig.name === undefined ? undefined : resolvePolicyName(routeConfig.name, `${field}.name (${route})`)
  const max = routeConfig.max === undefined ? global.max : resolveMax(routeConfig.max, `${field}.max (${route})`)
  const timeWindow = routeConfig.timeWindow === undefined
    ? global.timeWindow
    : resolveWindow(routeConfig.timeWindow, `${field}.timeWindow (${route})`)
  // A route that sets its own max means it for everyone, unless it also names its own tiers.
  const tiers = routeConfig.tiers !== undefined
    ? resolveTiers(routeConfig.tiers, `${field}.tiers (${route})`)
    : routeConfig.max === undefined ? global.tiers : undefined
  if (draft && tiers !== undefined && tiers !== global.tiers) for (const role of tiers.keys()) resolvePolicyName(role, `${field}.tiers.${role} (${route})`)
  return { name, max, timeWindow, tiers }
}

/**
 * `config.rateLimit` of a route → its policies, each with its own counters under `namespace`;
 * throws naming `config.rateLimit.<field>` (or `config.rateLimit[i].<field>`) on a bad value.
 * An object is one policy named `name ?? path`; an array is several, each with a distinct `name`.
 * With `draft` (headers 'draft' or 'both') a route's own tier names must be printable ASCII too.
 */
export function resolveRoutePolicies(config: unknown, global: RouteLimits, route: string, path: string, namespace: string, draft: boolean): Policy[] {
  if (!Array.isArray(config)) {
    const limits = resolveRouteLimits(config, global, 'config.rateLimit', route, draft)
    // a path outside printable ASCII is percent-encoded to fit a Structured Fields String
    return [{ ...limits, name: limits.name ?? (POLICY_NAME.test(path) ? path : encodeURI(path)), namespace }]
  }
  if (config.length === 0) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION(`config.rateLimit (${route})`, 'expected at least one policy')
  const names = new Set<string>()
  return config.map((entry: unknown, i) => {
    const field = `config.rateLimit[${i}]`
    const limits = resolveRouteLimits(entry, global, field, route, draft)
    if (limits.name === undefined) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION(`${field}.name (${route})`, 'every policy of a list needs a name')
    if (names.has(limits.name)) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION(`${field}.name (${route})`, `duplicate policy name "${limits.name}"`)
    names.add(limits.name)
    return { ...limits, name: limits.name, namespace: `${namespace}${limits.name}|` }
  })
}

/** True when a route path is matched by an `exemptPaths` entry (`'/health*'` is a prefix). */
export function isExemptPath(path: string, exemptPaths: readonly string[]): boolean {
  for (const entry of exemptPaths) {
    if (entry.endsWith('*') ? path.startsWith(entry.slice(0, -1)) : path === entry) return true
  }
  return false
}
