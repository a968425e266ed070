import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import { FST_OPSKIT_ALERTS_REDIS_TIMEOUT } from './errors.js'

/**
 * Who sends an alert when several instances of one service see it. Without Redis every instance
 * sends its own. With Redis, `SET NX PX` on `<prefix><service>:<key>:<kind>` elects one instance
 * per transition; a `resolved` clears the `firing` claim (and the other way round), so the next
 * episode is sent again. A Redis outage fails open: better a duplicate than a lost alert.
 */
export class SharedState {
  constructor(
    private readonly redis: Redis | undefined,
    private readonly prefix: string,
    private readonly logger: FastifyBaseLogger,
    private readonly timeoutMs = 1000,
  ) {}

  async claim(key: string, kind: 'firing' | 'resolved' | 'summary', ttlMs: number): Promise<boolean> {
    if (this.redis === undefined) return true
    const base = `${this.prefix}${key}`
    try {
      const claimed = await this.#bounded(this.redis.set(`${base}:${kind}`, String(process.pid), 'PX', Math.max(ttlMs, 1000), 'NX'))
      if (claimed !== 'OK') return false
      if (kind === 'firing') await this.#bounded(this.redis.del(`${base}:resolved`))
      if (kind === 'resolved') await this.#bounded(this.redis.del(`${base}:firing`))
      return true
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error)?.message } }, '@opskit/alerts: Redis unavailable, sending this alert from this instance')
      return true
    }
  }

  #bounded<T>(op: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FST_OPSKIT_ALERTS_REDIS_TIMEOUT(this.timeoutMs)), this.timeoutMs)
      timer.unref()
    })
    return Promise.race([op, timeout]).finally(() => clearTimeout(timer))
  }
}
