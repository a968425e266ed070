import { monitorEventLoopDelay } from 'node:perf_hooks'
import { isDurationMs, isPositiveInt } from '@opskit/core'
import { CheckFailedError, FST_OPSKIT_HEALTH_INVALID_OPTION } from '../errors.js'
import type { HealthCheck } from '../types.js'

export interface EventLoopCheckOptions {
  /** The check fails when the p99 event-loop delay since the previous run exceeds this, ms. */
  maxDelayMs: number
  /** Sampling resolution of the monitor, ms. Default `20`. */
  resolutionMs?: number
  /** Default `true`. */
  critical?: boolean
  /** Overrides the plugin's `timeoutMs`. */
  timeoutMs?: number
}

/**
 * Event-loop delay since the previous run (p99 and max, ms), from `perf_hooks.monitorEventLoopDelay`.
 * The monitor starts with the check and is stopped when Fastify closes.
 */
export function eventLoopCheck(options: EventLoopCheckOptions): HealthCheck {
  const { maxDelayMs, resolutionMs = 20, critical, timeoutMs } = options ?? ({} as EventLoopCheckOptions)
  if (!isDurationMs(maxDelayMs)) {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION('maxDelayMs', 'expected a positive number of milliseconds')
  }
  if (!isPositiveInt(resolutionMs)) {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION('resolutionMs', 'expected a positive integer of milliseconds')
  }
  // The histogram samples on a libuv timer that does not keep the process alive.
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs })
  histogram.enable()
  return {
    ...(critical === undefined ? {} : { critical }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    async check() {
      const p99 = histogram.count === 0 ? 0 : Math.round(histogram.percentile(99) / 1e4) / 100
      const max = histogram.count === 0 ? 0 : Math.round(histogram.max / 1e4) / 100
      histogram.reset()
      if (p99 > maxDelayMs) throw new CheckFailedError(`event loop delay p99 ${p99} ms exceeds ${maxDelayMs} ms`)
      return { delay_p99_ms: p99, delay_max_ms: max }
    },
    close() {
      histogram.disable()
    },
  }
}
