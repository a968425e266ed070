import { CheckFailedError, FST_OPSKIT_HEALTH_INVALID_OPTION } from '../errors.js'
import type { HealthCheck } from '../types.js'

/** The part of an ioredis client the check uses. */
export interface Pingable {
  ping(): Promise<string>
  status?: string
}

export interface RedisCheckOptions {
  /** Default `true`. */
  critical?: boolean
  /** Overrides the plugin's `timeoutMs`. */
  timeoutMs?: number
}

/**
 * Sends `PING`. A client that lost its connection (`reconnecting`, `end`…) fails at once with that
 * state instead of queueing the PING in ioredis' offline queue until the timeout.
 */
export function redisCheck(redis: Pingable, options: RedisCheckOptions = {}): HealthCheck {
  if (redis === null || typeof redis !== 'object' || typeof redis.ping !== 'function') {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION('redisCheck(redis)', 'expected an ioredis client')
  }
  return {
    ...options,
    async check() {
      const status = redis.status
      if (typeof status === 'string' && status !== 'ready' && status !== 'wait' && status !== 'connecting' && status !== 'connect') {
        throw new CheckFailedError(`redis connection is ${status}`)
      }
      const reply = await redis.ping()
      if (reply !== 'PONG') throw new CheckFailedError(`unexpected PING reply: ${String(reply).slice(0, 40)}`)
      return undefined
    },
  }
}
