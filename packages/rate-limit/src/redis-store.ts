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

/** Thrown while the store skips Redis after a timeout (see `RedisStore`), without sending anything. */
export class RedisStoreNotAnsweringError extends Error {
  readonly code = 'FST_RATE_LIMIT_REDIS_NOT_ANSWERING'
  constructor(ms: number) {
    super(`Redis did not answer in time; calls are skipped, one is tried every ${ms} ms until it answers`)
    this.name = 'RedisStoreNotAnsweringError'
  }
}

/** How long calls skip a Redis that timed out before one is tried again: at least 1 s. */
export function retryIntervalMs(timeoutMs: number): number {
  return Math.max(1000, timeoutMs * 5)
}

function isTimeout(err: Error): boolean {
  // ours (a timer), or ioredis's own `commandTimeout`
  return err instanceof RedisStoreTimeoutError || err.message === 'Command timed out'
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

/**
 * Counters shared by every instance of the service through one Redis.
 *
 * A connected Redis that stops answering (hung, overloaded, a network path that drops packets)
 * keeps every command sent to it queued inside the client until the connection closes: at a
 * thousand requests a second that is a thousand more each second. So after a call times out, the
 * store stops sending: calls fail at once (the limiter then fails open or answers 503, as for any
 * outage) and one call every `retryIntervalMs(timeoutMs)` is let through to see whether Redis
 * answers again; the first answer closes the gap.
 */
export class RedisStore implements CounterStore {
  readonly kind = 'redis'
  readonly client: Redis
  private readonly keyPrefix: string
  private readonly timeoutMs: number
  private readonly retryMs: number
  /** 0 while Redis answers; after a timeout, when the next probe may be sent. */
  private skipUntil = 0
  private probing = false
  private readonly owned: boolean
  private readonly call: ScriptCall
  // A client without its own commandTimeout (a user's) is bounded by a timer per call.
  private readonly needsTimer: boolean

  constructor(client: Redis, { keyPrefix, timeoutMs, owned }: RedisStoreOptions) {
    this.client = client
    this.keyPrefix = keyPrefix
    this.timeoutMs = timeoutMs
    this.retryMs = retryIntervalMs(timeoutMs)
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
    if (this.skipUntil !== 0) {
      if (this.probing || Date.now() < this.skipUntil) {
        cb(new RedisStoreNotAnsweringError(this.retryMs), null)
        return
      }
      this.probing = true // this call finds out whether Redis answers again
    }
    let timer: NodeJS.Timeout | undefined
    let settled = false
    if (this.needsTimer) {
      timer = setTimeout(() => {
        settled = true
        this.answered(new RedisStoreTimeoutError(this.timeoutMs))
        cb(new RedisStoreTimeoutError(this.timeoutMs), null)
      }, this.timeoutMs)
      timer.unref()
    }
    this.call(this.keyPrefix + key, windowMs, (err, res) => {
      if (settled) return
      if (timer !== undefined) clearTimeout(timer)
      if (err || res === undefined) {
        const error = err ?? new Error('Redis returned no result')
        this.answered(error)
        cb(error, null)
        return
      }
      if (this.skipUntil !== 0) this.answered(null)
      const state: CounterState = { current: Number(res[0]), ttl: Number(res[1]) }
      cb(null, state)
    })
  }

  /** Keeps skipping Redis after a timeout; anything else (an answer, even an error reply) ends it. */
  private answered(err: Error | null): void {
    this.probing = false
    this.skipUntil = err !== null && isTimeout(err) ? Date.now() + this.retryMs : 0
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
