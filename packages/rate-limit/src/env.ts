import { FST_OPSKIT_RATE_LIMIT_INVALID_OPTION } from './errors.js'
import type { OpskitRateLimitOptions } from './options.js'

const TRUE = new Set(['1', 'true', 'yes', 'on'])
const FALSE = new Set(['0', 'false', 'no', 'off'])

function isPositiveInteger(raw: string): boolean {
  return /^[1-9][0-9]*$/.test(raw) && Number.isSafeInteger(Number(raw))
}

/**
 * Plugin options from the environment: `RATE_LIMIT_ENABLED` (true/false, 1/0, yes/no, on/off),
 * `RATE_LIMIT_REQUESTS` (integer > 0 → `max`), `RATE_LIMIT_PERIOD` (seconds > 0 → `timeWindow`),
 * the same rules as `@opskit/suite`'s `loadConfig()` (turn limiting off with RATE_LIMIT_ENABLED=false).
 * Unset or empty variables are left out so the plugin defaults apply. Throws
 * `FST_OPSKIT_RATE_LIMIT_INVALID_OPTION` naming every bad variable at once.
 */
export function rateLimitOptionsFromEnv(env: Record<string, string | undefined> = process.env): Pick<OpskitRateLimitOptions, 'enabled' | 'max' | 'timeWindow'> {
  const options: Pick<OpskitRateLimitOptions, 'enabled' | 'max' | 'timeWindow'> = {}
  const bad: string[] = []

  const enabled = env.RATE_LIMIT_ENABLED?.trim().toLowerCase()
  if (enabled !== undefined && enabled !== '') {
    if (TRUE.has(enabled)) options.enabled = true
    else if (FALSE.has(enabled)) options.enabled = false
    else bad.push('RATE_LIMIT_ENABLED (expected true or false)')
  }

  const requests = env.RATE_LIMIT_REQUESTS?.trim()
  if (requests !== undefined && requests !== '') {
    if (isPositiveInteger(requests)) options.max = Number(requests)
    else bad.push('RATE_LIMIT_REQUESTS (expected an integer > 0)')
  }

  const period = env.RATE_LIMIT_PERIOD?.trim()
  if (period !== undefined && period !== '') {
    if (isPositiveInteger(period)) options.timeWindow = Number(period) * 1000
    else bad.push('RATE_LIMIT_PERIOD (expected seconds, an integer > 0)')
  }

  if (bad.length > 0) throw new FST_OPSKIT_RATE_LIMIT_INVALID_OPTION(bad.join(', '), 'bad environment variable')
  return options
}
