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
    throw new TypeError('@opskit/health: redisCheck() expects an ioredis client')
  }
  return {
    ...options,
    async check() {
      const status = redis.status
      if (typeof status === 'string' && status !== 'ready' && status !== 'wait' && status !== 'connecting' && status !== 'connect') {
        throw new Error(`redis connection is ${status}`)
      }
      const reply = await redis.ping()
      if (reply !== 'PONG') throw new Error(`unexpected PING reply: ${String(reply).slice(0, 40)}`)
      return undefined
    },
  }
}
