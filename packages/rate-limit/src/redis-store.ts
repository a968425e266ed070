import { Redis } from 'ioredis'
import type { CounterState, CounterStore, IncrCallback } from './store.js'

// INCR and the window's expiry in one script: one EVALSHA, so one round trip per request.
// A key found without an expiry (written by something else) gets the window again.
const INCR_SCRIPT = `
local current = redis.call('INCR', KEYS[1])
local ttl
if current == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
else
  ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
  end
end
return {current, ttl}
`

const COMMAND = 'opskitRateLimitIncr'

type ScriptCall = (key: string, windowMs: number, cb: (err: Error | null | undefined, res?: [number, number]) => void) => void

export class RedisStoreTimeoutError extends Error {
  readonly code = 'FST_RATE_LIMIT_REDIS_TIMEOUT'
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`)
    this.name = 'RedisStoreTimeoutError'
  }
}

export class RedisStoreUnavailableError extends Error {
  readonly code = 'FST_RATE_LIMIT_REDIS_UNAVAILABLE'
  constructor(status: string) {
    super(`Redis connection is not ready (status "${status}")`)
    this.name = 'RedisStoreUnavailableError'
  }
}

export interface RedisStoreOptions {
  /** Prepended to every key. */
  keyPrefix: string
  /** Upper bound, in ms, on one call. */
  timeoutMs: number
  /** True when the store created the client from a URL and so closes it. */
  owned: boolean
}

/**
 * Create the client for a Redis URL: every call bounded (`commandTimeout`), no offline queue and no
 * retries, so a request never waits on a dead or hanging Redis; reconnects in the background.
 */
export function createRedisClient(url: string, timeoutMs: number): Redis {
  return new Redis(url, {
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(timeoutMs * 5, 1000),
    retryStrategy: (times) => Math.min(times * 100, 2000),
    lazyConnect: false,
  })
}

/** Counters shared by every instance of the service through one Redis. */
export class RedisStore implements CounterStore {
  readonly kind = 'redis'
  readonly client: Redis
  private readonly keyPrefix: string
  private readonly timeoutMs: number
  private readonly owned: boolean
  private readonly call: ScriptCall
  // A client without its own commandTimeout (a user's) is bounded by a timer per call.
  private readonly needsTimer: boolean

  constructor(client: Redis, { keyPrefix, timeoutMs, owned }: RedisStoreOptions) {
    this.client = client
    this.keyPrefix = keyPrefix
    this.timeoutMs = timeoutMs
    this.owned = owned
    const withCommand = client as Redis & Record<string, ScriptCall | undefined>
    if (typeof withCommand[COMMAND] !== 'function') client.defineCommand(COMMAND, { numberOfKeys: 1, lua: INCR_SCRIPT })
    this.call = (withCommand[COMMAND] as ScriptCall).bind(client)
    const commandTimeout = client.options.commandTimeout
    this.needsTimer = !(typeof commandTimeout === 'number' && commandTimeout > 0 && commandTimeout <= timeoutMs)
  }

  incr(key: string, windowMs: number, cb: IncrCallback): void {
    // Not connected: answer now rather than queue behind a reconnect.
    const status = this.client.status
    if (status !== 'ready') {
      cb(new RedisStoreUnavailableError(status), null)
      return
    }
    let timer: NodeJS.Timeout | undefined
    let settled = false
    if (this.needsTimer) {
      timer = setTimeout(() => {
        settled = true
        cb(new RedisStoreTimeoutError(this.timeoutMs), null)
      }, this.timeoutMs)
      timer.unref()
    }
    this.call(this.keyPrefix + key, windowMs, (err, res) => {
      if (settled) return
      if (timer !== undefined) clearTimeout(timer)
      if (err || res === undefined) {
        cb(err ?? new Error('Redis returned no result'), null)
        return
      }
      const state: CounterState = { current: Number(res[0]), ttl: Number(res[1]) }
      cb(null, state)
    })
  }

  /**
   * Wait until the client is ready, it fails, or `ms` pass, whichever comes first. Never throws:
   * a Redis that is down at start-up is handled like one that goes down later.
   */
  waitUntilSettled(ms: number): Promise<void> {
    const client = this.client
    if (client.status === 'ready') return Promise.resolve()
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer)
        client.off('ready', finish)
        client.off('error', finish)
        client.off('end', finish)
        resolve()
      }
      const timer = setTimeout(finish, ms)
      timer.unref()
      client.once('ready', finish)
      client.once('error', finish)
      client.once('end', finish)
    })
  }

  async close(): Promise<void> {
    if (!this.owned) return
    if (this.client.status === 'ready') {
      try {
        await this.client.quit()
        return
      } catch {
        // fall through to disconnect
      }
    }
    this.client.disconnect()
  }
}
