import { statfs } from 'node:fs/promises'
import { CheckFailedError, FST_OPSKIT_HEALTH_INVALID_OPTION } from '../errors.js'
import type { HealthCheck } from '../types.js'

export interface DiskCheckOptions {
  /** From this use the check stays ok but reports a `warning`. Default `85`. */
  warnPercent?: number
  /** From this use the check fails. Default `95`. */
  criticalPercent?: number
  /** Default `true`. */
  critical?: boolean
  /** Overrides the plugin's `timeoutMs`. */
  timeoutMs?: number
}

/**
 * Disk use of the file system holding `path` (as `df` counts it: space reserved for root is not
 * available). Reports `used_percent` and `free_bytes`; over `warnPercent` adds a `warning`, over
 * `criticalPercent` fails.
 */
export function diskCheck(path: string, options: DiskCheckOptions = {}): HealthCheck {
  const { warnPercent = 85, criticalPercent = 95, critical, timeoutMs } = options
  if (typeof path !== 'string' || path.length === 0) throw new FST_OPSKIT_HEALTH_INVALID_OPTION('diskCheck(path)', 'expected a path')
  const isPercent = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n > 0 && n <= 100
  if (!isPercent(warnPercent)) throw new FST_OPSKIT_HEALTH_INVALID_OPTION('warnPercent', 'expected a percentage in (0, 100]')
  if (!isPercent(criticalPercent) || criticalPercent < warnPercent) {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION('criticalPercent', 'expected a percentage in (0, 100], at least warnPercent')
  }
  return {
    ...(critical === undefined ? {} : { critical }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    async check() {
      const stats = await statfs(path)
      const used = stats.blocks - stats.bfree
      const usable = used + stats.bavail
      const usedPercent = usable === 0 ? 0 : Math.round((used / usable) * 1000) / 10
      const fields = { path, used_percent: usedPercent, free_bytes: stats.bavail * stats.bsize }
      if (usedPercent >= criticalPercent) {
        throw new CheckFailedError(`disk ${usedPercent}% full (critical at ${criticalPercent}%)`, fields)
      }
      if (usedPercent >= warnPercent) return { ...fields, warning: `disk ${usedPercent}% full (warning at ${warnPercent}%)` }
      return fields
    },
  }
}
