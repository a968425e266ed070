import { createHash, randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { FST_OPSKIT_SECURITY_LOG_REDIS_TIMEOUT } from './errors.js'
import type { WindowHit } from './memory-window.js'

// One round trip, atomic: trim the window, add this event, count, refresh the TTL, and when the
// threshold is reached take the once-per-window marker with SET NX PX, so however many instances
// share the Redis, exactly one of them sees `fire`. Time comes from the Redis server so instances
// with skewed clocks agree on the window. The set never holds more than `threshold` members.
const SLIDING_WINDOW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[3])
local count = redis.call('ZCARD', KEYS[1])
if count > threshold then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, count - threshold - 1)
  count = threshold
end
redis.call('PEXPIRE', KEYS[1], window)
if count >= threshold then
  if redis.call('SET', KEYS[2], '1', 'NX', 'PX', window) then
    return {count, 1}
  end
end
return {count, 0}
`

const SCRIPT_SHA = createHash('sha1').update(SLIDING_WINDOW_SCRIPT).digest('hex')

/** Sliding-window counters in Redis (a sorted set per key plus a marker key), shared by every instance. */
export class RedisWindow {
  readonly #redis: Redis
  readonly #prefix: string
  readonly #timeoutMs: number

  constructor(redis: Redis, prefix: string, timeoutMs: number) {
    this.#redis = redis
    this.#prefix = prefix
    this.#timeoutMs = timeoutMs
  }

  async hit(key: string, windowMs: number, threshold: number): Promise<WindowHit> {
    // The hash tag {...} keeps both keys in one Redis Cluster slot.
    const base = `${this.#prefix}{${key}}`
    const args = [2, `${base}:w`, `${base}:m`, windowMs, threshold, randomUUID()] as const
    const reply = await this.#withTimeout(this.#run(args))
    const [count, fire] = reply as [number, number]
    return { count: Number(count), fire: Number(fire) === 1 }
  }

  async #run(args: readonly [number, string, string, number, number, string]): Promise<unknown> {
    try {
      return await this.#redis.evalsha(SCRIPT_SHA, ...args)
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err
      return this.#redis.eval(SLIDING_WINDOW_SCRIPT, ...args)
    }
  }

  #withTimeout<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new FST_OPSKIT_SECURITY_LOG_REDIS_TIMEOUT(this.#timeoutMs)), this.#timeoutMs)
      timer.unref()
      promise.then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (err: unknown) => {
          clearTimeout(timer)
          reject(err as Error)
        },
      )
    })
  }
}
