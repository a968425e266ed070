import { CheckFailedError, FST_OPSKIT_HEALTH_INVALID_OPTION } from '../errors.js'
import type { HealthCheck } from '../types.js'

export interface MemoryCheckOptions {
  /** The check fails when the resident set size exceeds this. Default: no limit. */
  maxRssBytes?: number
  /** The check fails when the V8 heap in use exceeds this. Default: no limit. */
  maxHeapUsedBytes?: number
  /** Default `true`. */
  critical?: boolean
  /** Overrides the plugin's `timeoutMs`. */
  timeoutMs?: number
}

/** Reports `rss_bytes` and `heap_used_bytes`; fails over either limit. */
export function memoryCheck(options: MemoryCheckOptions = {}): HealthCheck {
  const { maxRssBytes, maxHeapUsedBytes, critical, timeoutMs } = options
  for (const [name, value] of [['maxRssBytes', maxRssBytes], ['maxHeapUsedBytes', maxHeapUsedBytes]] as const) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)) {
      throw new FST_OPSKIT_HEALTH_INVALID_OPTION(name, 'expected a positive number of bytes')
    }
  }
  return {
    ...(critical === undefined ? {} : { critical }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    async check() {
      const { rss, heapUsed } = process.memoryUsage()
      if (maxRssBytes !== undefined && rss > maxRssBytes) throw new CheckFailedError(`rss ${rss} bytes exceeds ${maxRssBytes}`)
      if (maxHeapUsedBytes !== undefined && heapUsed > maxHeapUsedBytes) throw new CheckFailedError(`heap used ${heapUsed} bytes exceeds ${maxHeapUsedBytes}`)
      return { rss_bytes: rss, heap_used_bytes: heapUsed }
    },
  }
}
