import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { Counter, type Registry } from 'prom-client'

/**
 * Checks `Authorization: Bearer <token>` in constant time: both sides are hashed first, so
 * neither the token's content nor its length leaks through timing.
 */
export function createBearerCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest()
  return function isAuthorized(authorization) {
    if (typeof authorization !== 'string' || authorization.length < 8) return false
    const scheme = authorization.slice(0, 7)
    if (scheme.toLowerCase() !== 'bearer ') return false
    const given = createHash('sha256').update(authorization.slice(7).trim()).digest()
    return timingSafeEqual(given, expected)
  }
}

/** At most one WARN line per this many ms about rejected scrapes. */
export const SCRAPE_AUTH_WARN_INTERVAL_MS = 60_000

export interface ScrapeAuthOptions {
  token: string
  registry: Registry
  prefix: string
  log: FastifyBaseLogger
}

/**
 * The `/metrics` bearer check with its bookkeeping. A rejected scrape is a misconfigured scraper
 * far more often than an attack, and it repeats every scrape interval: it counts in
 * `metrics_auth_failures_total` and logs one WARN per minute at most (with how many were rejected
 * since the last one), and the route is left out of the security log (`config.securityLog: false`),
 * so a scraper with a stale token cannot fill `security_logs`.
 */
export function createScrapeAuth(options: ScrapeAuthOptions): (request: FastifyRequest) => boolean {
  const isAuthorized = createBearerCheck(options.token)
  const failures = new Counter({
    name: `${options.prefix}metrics_auth_failures_total`,
    help: 'Scrapes of the metrics endpoint refused with 401 (missing or wrong bearer token).',
    registers: [options.registry],
  })
  let lastWarnAt = Number.NEGATIVE_INFINITY
  let unreported = 0
  return function checkScrape(request) {
    const authorization = request.headers.authorization
    if (isAuthorized(authorization)) return true
    failures.inc()
    unreported++
    const now = Date.now()
    if (now - lastWarnAt >= SCRAPE_AUTH_WARN_INTERVAL_MS) {
      options.log.warn(
        { refused_scrapes: unreported, ip: request.ip, reason: authorization === undefined ? 'missing' : 'invalid' },
        'metrics: refused a scrape without a valid bearer token (check the scraper\'s token); counted in metrics_auth_failures_total, logged at most once a minute',
      )
      lastWarnAt = now
      unreported = 0
    }
    return false
  }
}
