import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import { MemoryWindow } from './memory-window.js'
import type { WindowHit } from './memory-window.js'
import { RedisWindow } from './redis-window.js'
import type { SecurityRecord } from './record.js'

export type AbuseKeyType = 'ip' | 'user'

/** What a `suspicious_activity` event's details hold. */
export interface SuspiciousDetails {
  trigger_action: string
  count: number
  threshold: number
  window_ms: number
  key_type: AbuseKeyType
  key: string
  [key: string]: unknown
}

export interface AbuseDetectorOptions {
  windowMs: number
  thresholds: Record<string, number>
  keyBy: AbuseKeyType[]
  maxKeys: number
  redis: Redis | undefined
  keyPrefix: string
  redisTimeoutMs: number
  logger: FastifyBaseLogger
  /** Records the `suspicious_activity` event for a crossing and calls `onSuspicious`. */
  onCrossing(trigger: SecurityRecord, details: SuspiciousDetails): void
}

/**
 * Counts events whose action has a threshold, per IP and per user, over a sliding window (Redis
 * when given, else memory), and reports each crossing once per window and key. A Redis failure
 * never fails the caller: counting falls back to memory, with one ERROR per outage.
 */
export class AbuseDetector {
  readonly #opts: AbuseDetectorOptions
  readonly #memory: MemoryWindow
  readonly #redis: RedisWindow | undefined
  #redisDown = false

  constructor(opts: AbuseDetectorOptions) {
    this.#opts = opts
    this.#memory = new MemoryWindow(opts.maxKeys)
    this.#redis = opts.redis === undefined ? undefined : new RedisWindow(opts.redis, opts.keyPrefix, opts.redisTimeoutMs)
  }

  /** True when `action` is counted. */
  watches(action: string): boolean {
    return action !== 'suspicious_activity' && Object.hasOwn(this.#opts.thresholds, action)
  }

  /** Counts `record` (when its action has a threshold). Never rejects. */
  async observe(record: SecurityRecord): Promise<void> {
    const threshold = this.#opts.thresholds[record.action]
    if (threshold === undefined || record.action === 'suspicious_activity') return
    for (const keyType of this.#opts.keyBy) {
      const key = keyType === 'ip' ? record.ip_address : record.user_id
      if (key === null) continue
      const hit = await this.#hit(`${record.action}:${keyType}:${key}`, threshold)
      if (!hit.fire) continue
      try {
        this.#opts.onCrossing(record, {
          trigger_action: record.action,
          count: hit.count,
          threshold,
          window_ms: this.#opts.windowMs,
          key_type: keyType,
          key,
        })
      } catch (err) {
        this.#opts.logger.error({ err }, '@opskit/security-log: recording suspicious_activity failed')
      }
    }
  }

  async #hit(key: string, threshold: number): Promise<WindowHit> {
    const { windowMs, logger } = this.#opts
    if (this.#redis !== undefined) {
      try {
        const hit = await this.#redis.hit(key, windowMs, threshold)
        if (this.#redisDown) {
          this.#redisDown = false
          logger.info('@opskit/security-log: Redis is back, abuse counters are shared again')
        }
        return hit
      } catch (err) {
        if (!this.#redisDown) {
          this.#redisDown = true
          logger.error(
            { err: { message: (err as Error).message, code: (err as { code?: string }).code } },
            '@opskit/security-log: Redis failed, abuse counters fall back to this instance\'s memory until it answers again',
          )
        }
      }
    }
    return this.#memory.hit(key, Date.now(), windowMs, threshold)
  }
}
