import type { FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { isPlainObject, isRedisLike } from '@opskit/core'
import { FST_OPSKIT_ALERTS_INVALID_OPTION } from './errors.js'
import type { AlertSeverity, AlertSink } from './message.js'

export interface RuleOptions {
  /** The rule's severity. */
  severity?: AlertSeverity
  /** Not sent again inside this while it keeps firing. */
  cooldownMs?: number
}

export interface RulesOptions {
  /** `/health/ready` failed `failures` (default 3) evaluations in a row. critical, 5 min. */
  service_down?: (RuleOptions & { failures?: number }) | false
  /** A readiness check failed while readiness is `error` (a critical check is down); one alert per check. critical, 5 min. */
  check_down?: RuleOptions | false
  /** More than `threshold` (default 10) responses ≥ 500 in `windowMs` (default 5 min). error, 10 min. */
  high_error_rate?: (RuleOptions & { threshold?: number; windowMs?: number }) | false
  /** p95 request duration over `p95Seconds` (default 2) in `windowMs` (default 5 min), once `minRequests` (default 20) were served. warning, 15 min. */
  slow_responses?: (RuleOptions & { p95Seconds?: number; windowMs?: number; minRequests?: number }) | false
  /** A `diskCheck` at `warnPercent` (85: warning, 1 h) or `criticalPercent` (95: critical, 15 min). */
  disk_space?: { warnPercent?: number; criticalPercent?: number; warningCooldownMs?: number; criticalCooldownMs?: number } | false
}

export interface CustomRule {
  /** Alert name (`[a-z0-9_.-]`), the `alert` label and field. */
  name: string
  severity: AlertSeverity
  /** Evaluated at most this often. Default: the plugin's `everyMs`. */
  everyMs?: number
  /** Default `300000`. */
  cooldownMs?: number
  /** `true` while the problem lasts. A throw counts as "no change" and is logged. */
  evaluate(): boolean | Promise<boolean>
  /** The alert's one-line message. Default `<name> is firing`. */
  message?: string
}

export interface SummaryOptions {
  /** Local hour (0–23) the digest of the past 24 h goes out. Default `8`. */
  hour?: number
  /** IANA time zone of `hour`. Default `'UTC'`. */
  timeZone?: string
  /** Where the digest goes. Default: every sink. */
  sinks?: AlertSink[]
}

export interface RoutesOptions {
  /** Default `'/alerts'`. */
  prefix?: string
  /** Who may read `GET <prefix>`. Without it the route is not registered. */
  authorize: (request: FastifyRequest) => boolean | Promise<boolean>
}

export interface OpskitAlertsOptions {
  /** Where alerts go. */
  sinks: AlertSink[]
  /** Built-in rules: each takes its options, or `false` to turn it off. Default: all on where their input (health, metrics) exists. */
  rules?: RulesOptions
  /** Your own rules, same lifecycle. Default none. */
  custom?: CustomRule[]
  /** Evaluation period. Default `15000` ms. */
  everyMs?: number
  /** Share alerts between the instances of one service: an ioredis instance (yours to close) or a URL. */
  redis?: Redis | string
  /** Redis key prefix. Default `'opskit:alerts:'`. */
  keyPrefix?: string
  /** Service name; instances with the same one share alerts. Default `APP_NAME`, else `'app'`. */
  service?: string
  /** A daily digest. Default off. */
  summary?: SummaryOptions
  /** `GET <prefix>` with firing alerts and history. Default not registered. */
  routes?: RoutesOptions
  /** Retries of a failed delivery (backoff from `retryBaseMs`, doubling). Default `3`. */
  retries?: number
  /** Default `1000` ms. */
  retryBaseMs?: number
  /** How long `close()` waits for deliveries in flight. Default `5000` ms. */
  closeTimeoutMs?: number
  /** History entries kept (24 h at most). Default `1000`. */
  historyLimit?: number
}

export interface ResolvedRule {
  severity: AlertSeverity
  cooldownMs: number
}

export interface ResolvedOptions {
  sinks: AlertSink[]
  rules: {
    service_down: (ResolvedRule & { failures: number }) | false
    check_down: ResolvedRule | false
    high_error_rate: (ResolvedRule & { threshold: number; windowMs: number }) | false
    slow_responses: (ResolvedRule & { p95Seconds: number; windowMs: number; minRequests: number }) | false
    disk_space: { warnPercent: number; criticalPercent: number; warningCooldownMs: number; criticalCooldownMs: number } | false
  }
  custom: Array<Required<Omit<CustomRule, 'message'>> & { message: string }>
  everyMs: number
  redis: Redis | string | undefined
  keyPrefix: string
  service: string
  summary: { hour: number; timeZone: string; sinks: AlertSink[] } | undefined
  routes: { prefix: string; authorize: RoutesOptions['authorize'] } | undefined
  retries: number
  retryBaseMs: number
  closeTimeoutMs: number
  historyLimit: number
}

const FIVE_MIN = 300_000

export const DEFAULTS = {
  everyMs: 15_000,
  keyPrefix: 'opskit:alerts:',
  retries: 3,
  retryBaseMs: 1000,
  closeTimeoutMs: 5000,
  historyLimit: 1000,
  rules: {
    service_down: { severity: 'critical', cooldownMs: FIVE_MIN, failures: 3 },
    check_down: { severity: 'critical', cooldownMs: FIVE_MIN },
    high_error_rate: { severity: 'error', cooldownMs: 600_000, threshold: 10, windowMs: FIVE_MIN },
    slow_responses: { severity: 'warning', cooldownMs: 900_000, p95Seconds: 2, windowMs: FIVE_MIN, minRequests: 20 },
    disk_space: { warnPercent: 85, criticalPercent: 95, warningCooldownMs: 3_600_000, criticalCooldownMs: 900_000 },
  },
  summary: { hour: 8, timeZone: 'UTC' },
  routes: { prefix: '/alerts' },
} as const

const SEVERITIES = new Set(['critical', 'error', 'warning', 'info'])
const NAME = /^[a-z0-9_.-]{1,64}$/i

function fail(option: string, problem: string): never {
  throw new FST_OPSKIT_ALERTS_INVALID_OPTION(option, problem)
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(where === '' ? key : `${where}.${key}`, `unknown option (known: ${allowed.join(', ')})`)
  }
}

function int(value: unknown, fallback: number, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(option, `expected an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}`)
  return value
}

function positive(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(option, 'expected a number > 0')
  return value
}

function severity(value: unknown, fallback: AlertSeverity, option: string): AlertSeverity {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !SEVERITIES.has(value)) fail(option, 'expected "critical", "error", "warning" or "info"')
  return value as AlertSeverity
}

function sinksOf(value: unknown, option: string): AlertSink[] {
  if (!Array.isArray(value) || !value.every((s) => s !== null && typeof s === 'object' && typeof s.send === 'function' && typeof s.name === 'string')) {
    fail(option, 'expected an array of sinks { name, send(message) } such as telegramSink(), webhookSink(url) or emailSink()')
  }
  return [...value] as AlertSink[]
}

function ruleSection<K extends keyof typeof DEFAULTS.rules>(
  rules: Record<string, unknown>,
  name: K,
  extra: Record<string, (value: unknown, fallback: number, option: string) => number>,
): Record<string, unknown> | false {
  const given = rules[name]
  if (given === false) return false
  if (given !== undefined && !isPlainObject(given)) fail(`rules.${name}`, 'expected an object or false')
  const section = (given ?? {}) as Record<string, unknown>
  const defaults = DEFAULTS.rules[name] as Record<string, unknown>
  onlyKeys(section, Object.keys(defaults), `rules.${name}`)
  const out: Record<string, unknown> = {}
  for (const [key, fallback] of Object.entries(defaults)) {
    const option = `rules.${name}.${key}`
    if (key === 'severity') out[key] = severity(section[key], fallback as AlertSeverity, option)
    else if (key in extra) out[key] = extra[key]!(section[key], fallback as number, option)
    else out[key] = int(section[key], fallback as number, option, 0)
  }
  return out
}

export function resolveOptions(opts: OpskitAlertsOptions): ResolvedOptions {
  if (!isPlainObject(opts)) fail('options', 'expected { sinks, … }')
  onlyKeys(opts, ['sinks', 'rules', 'custom', 'everyMs', 'redis', 'keyPrefix', 'service', 'summary', 'routes', 'retries', 'retryBaseMs', 'closeTimeoutMs', 'historyLimit'], '')
  const sinks = sinksOf(opts.sinks, 'sinks')
  const names = new Set<string>()
  for (const sink of sinks) {
    if (names.has(sink.name)) fail('sinks', `two sinks are named "${sink.name}"; give one another name`)
    names.add(sink.name)
  }

  const rulesGiven = opts.rules ?? {}
  if (!isPlainObject(rulesGiven)) fail('rules', 'expected an object of rule → options or false')
  onlyKeys(rulesGiven, Object.keys(DEFAULTS.rules), 'rules')
  const percent = (value: unknown, fallback: number, option: string): number => {
    const n = positive(value, fallback, option)
    if (n > 100) fail(option, 'expected a percentage in (0, 100]')
    return n
  }
  const rules = {
    service_down: ruleSection(rulesGiven, 'service_down', { failures: (v, f, o) => int(v, f, o, 1) }),
    check_down: ruleSection(rulesGiven, 'check_down', {}),
    high_error_rate: ruleSection(rulesGiven, 'high_error_rate', { windowMs: (v, f, o) => int(v, f, o, 1) }),
    slow_responses: ruleSection(rulesGiven, 'slow_responses', { p95Seconds: positive, windowMs: (v, f, o) => int(v, f, o, 1) }),
    disk_space: ruleSection(rulesGiven, 'disk_space', { warnPercent: percent, criticalPercent: percent }),
  } as ResolvedOptions['rules']
  if (rules.disk_space !== false && rules.disk_space.criticalPercent < rules.disk_space.warnPercent) {
    fail('rules.disk_space.criticalPercent', 'expected at least warnPercent')
  }

  const everyMs = int(opts.everyMs, DEFAULTS.everyMs, 'everyMs', 1)
  const customGiven = opts.custom ?? []
  if (!Array.isArray(customGiven)) fail('custom', 'expected an array of { name, severity, evaluate() }')
  const custom = customGiven.map((rule: unknown, i) => {
    const where = `custom[${i}]`
    if (!isPlainObject(rule)) fail(where, 'expected { name, severity, evaluate() }')
    onlyKeys(rule, ['name', 'severity', 'everyMs', 'cooldownMs', 'evaluate', 'message'], where)
    if (typeof rule.name !== 'string' || !NAME.test(rule.name)) fail(`${where}.name`, 'expected a name of letters, digits, _ . -')
    if (rule.name in DEFAULTS.rules || rule.name === 'summary' || names.has(`custom:${rule.name}`)) fail(`${where}.name`, `"${rule.name}" is taken`)
    names.add(`custom:${rule.name}`)
    if (rule.severity === undefined) fail(`${where}.severity`, 'expected "critical", "error", "warning" or "info"')
    if (typeof rule.evaluate !== 'function') fail(`${where}.evaluate`, 'expected a function returning a boolean')
    if (rule.message !== undefined && typeof rule.message !== 'string') fail(`${where}.message`, 'expected a string')
    return {
      name: rule.name,
      severity: severity(rule.severity, 'critical', `${where}.severity`),
      everyMs: int(rule.everyMs, everyMs, `${where}.everyMs`, 1),
      cooldownMs: int(rule.cooldownMs, FIVE_MIN, `${where}.cooldownMs`, 0),
      evaluate: rule.evaluate as CustomRule['evaluate'],
      message: (rule.message as string | undefined) ?? `${rule.name} is firing`,
    }
  })

  const { redis } = opts
  if (redis !== undefined) {
    if (typeof redis === 'string') {
      if (!/^rediss?:\/\//.test(redis)) fail('redis', 'expected a redis:// or rediss:// URL or an ioredis instance')
    } else if (!isRedisLike<Redis>(redis)) fail('redis', 'expected a redis:// URL or an ioredis instance')
  }
  const keyPrefix = opts.keyPrefix ?? DEFAULTS.keyPrefix
  if (typeof keyPrefix !== 'string') fail('keyPrefix', 'expected a string')
  const service = opts.service ?? (process.env.APP_NAME || 'app')
  if (typeof service !== 'string' || service.length === 0 || service.length > 128) fail('service', 'expected a non-empty name')

  let summary: ResolvedOptions['summary']
  if (opts.summary !== undefined) {
    if (!isPlainObject(opts.summary)) fail('summary', 'expected { hour?, timeZone?, sinks? }')
    onlyKeys(opts.summary, ['hour', 'timeZone', 'sinks'], 'summary')
    const timeZone = opts.summary.timeZone ?? DEFAULTS.summary.timeZone
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timeZone as string })
    } catch {
      fail('summary.timeZone', 'expected an IANA time zone such as "Europe/Berlin"')
    }
    summary = {
      hour: int(opts.summary.hour, DEFAULTS.summary.hour, 'summary.hour', 0, 23),
      timeZone: timeZone as string,
      sinks: opts.summary.sinks === undefined ? sinks : sinksOf(opts.summary.sinks, 'summary.sinks'),
    }
  }

  let routes: ResolvedOptions['routes']
  if (opts.routes !== undefined) {
    if (!isPlainObject(opts.routes)) fail('routes', 'expected { prefix?, authorize }')
    onlyKeys(opts.routes, ['prefix', 'authorize'], 'routes')
    const prefix = opts.routes.prefix ?? DEFAULTS.routes.prefix
    if (typeof prefix !== 'string' || !prefix.startsWith('/')) fail('routes.prefix', 'expected a path starting with "/"')
    if (typeof opts.routes.authorize !== 'function') fail('routes.authorize', 'expected a function (request) => boolean')
    routes = { prefix: prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix, authorize: opts.routes.authorize as RoutesOptions['authorize'] }
  }

  return {
    sinks,
    rules,
    custom,
    everyMs,
    redis,
    keyPrefix,
    service,
    summary,
    routes,
    retries: int(opts.retries, DEFAULTS.retries, 'retries', 0, 20),
    retryBaseMs: int(opts.retryBaseMs, DEFAULTS.retryBaseMs, 'retryBaseMs', 1),
    closeTimeoutMs: int(opts.closeTimeoutMs, DEFAULTS.closeTimeoutMs, 'closeTimeoutMs', 0),
    historyLimit: int(opts.historyLimit, DEFAULTS.historyLimit, 'historyLimit', 1),
  }
}
