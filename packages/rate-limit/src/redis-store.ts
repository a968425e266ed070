import createError from '@fastify/error'
import { Redis } from 'ioredis'
import { FST_OPSKIT_RATE_LIMIT_STORE_NO_RESULT } from './errors.js'
import { fixedResult } from './fixed-window.js'
import { slidingResult } from './sliding-window.js'
import type { CounterStore, HitCallback, PolicyResult } from './store.js'

// Fixed window: each policy's key (KEYS[k]) holds its count, its expiry is the window (ARGV[2k-1]
// ms); ARGV[2k] is the limit. One script: one EVALSHA, so one round trip per request however many
// policies a route has. A request one policy rejects is counted in none (a burst limit's 429s do
// not spend a daily quota). A key found without an expiry (written by something else) gets the
// window again. Returns {counted, current_1, ttl_1, current_2, ttl_2, ...} (ttl 0: no window yet).
const FIXED_SCRIPT = `
local n = #KEYS
local counted = 1
local cur = {}
local ttl = {}
if n > 1 then
  for k = 1, n do
    local t = redis.call('PTTL', KEYS[k])
    local c = 0
    if t ~= -2 then c = tonumber(redis.call('GET', KEYS[k])) or 0 end
    cur[k] = c
    ttl[k] = t
    if c + 1 > tonumber(ARGV[2 * k]) then counted = 0 end
  end
end
local out = {counted}
for k = 1, n do
  local window = tonumber(ARGV[2 * k - 1])
  local current
  local t
  if counted == 1 then
    current = redis.call('INCR', KEYS[k])
    if current == 1 then
      redis.call('PEXPIRE', KEYS[k], window)
      t = window
    else
      t = redis.call('PTTL', KEYS[k])
      if t < 0 then
        redis.call('PEXPIRE', KEYS[k], window)
        t = window
      end
    end
  else
    current = cur[k]
    t = ttl[k]
    if t < 0 then t = 0 end
  end
  out[2 * k] = current
  out[2 * k + 1] = t
end
return out
`

// Sliding window (sliding-window.ts, line by line): ARGV[1] is the app's clock in ms (so the memory
// and Redis stores decide alike, and every instance shares the windows of the epoch), then the
// window and the limit of each policy. A hash per key: i (window index), c (its count), p (the
// previous window's). Counted in every policy only when all allow it. Returns
// {allowed, p_1, c_1, e_1, p_2, c_2, e_2, ...} (c after counting). Integers only, as in JS.
const SLIDING_SCRIPT = `
local now = tonumber(ARGV[1])
local n = #KEYS
local state = {}
local allowed = 1
for k = 1, n do
  local w = tonumber(ARGV[2 * k])
  local limit = tonumber(ARGV[2 * k + 1])
  local index = math.floor(now / w)
  local v = redis.call('HMGET', KEYS[k], 'i', 'c', 'p')
  local i = tonumber(v[1])
  local c = tonumber(v[2]) or 0
  local p = tonumber(v[3]) or 0
  if i == nil then
    i = index
    c = 0
    p = 0
  elseif i < index then
    if i == index - 1 then p = c else p = 0 end
    c = 0
    i = index
  end
  local e = now - i * w
  if e < 0 then e = 0 end
  if p * (w - e) + (c + 1) * w > limit * w then allowed = 0 end
  state[k] = {i, c, p, e, w}
end
local out = {allowed}
for k = 1, n do
  local s = state[k]
  local c = s[2]
  if allowed == 1 then
    c = c + 1
    redis.call('HSET', KEYS[k], 'i', s[1], 'c', c, 'p', s[3])
    redis.call('PEXPIRE', KEYS[k], 2 * s[5] - s[4])
  end
  out[3 * k - 1] = s[3]
  out[3 * k] = c
  out[3 * k + 1] = s[4]
end
return out
`

const FIXED_COMMAND = 'opskitRateLimitFixed'
const SLIDING_COMMAND = 'opskitRateLimitSliding'

type ScriptCall = (...args: Array<string | number | ((err: Error | null | undefined, res?: number[]) => void)>) => void

/** A Redis call took longer than `redisTimeoutMs` (a store failure: fail open or 503). */
export const RedisStoreTimeoutError = createError<[number]>('FST_OPSKIT_RATE_LIMIT_REDIS_TIMEOUT', 'Redis did not answer within %s ms', 503)

/** The Redis connection is not ready (connecting, reconnecting, closed). */
export const RedisStoreUnavailableError = createError<[string]>('FST_OPSKIT_RATE_LIMIT_REDIS_UNAVAILABLE', 'Redis connection is not ready (status "%s")', 503)

/** Thrown while the store skips Redis after a timeout (see `RedisStore`), without sending anything. */
export const RedisStoreNotAnsweringError = createError<[number]>(
  'FST_OPSKIT_RATE_LIMIT_REDIS_NOT_ANSWERING',
  'Redis did not answer in time; calls are skipped, one is tried every %s ms until it answers',
  503,
)

/** How long calls skip a Redis that timed out before one is tried again: at least 1 s. */
export function retryIntervalMs(timeoutMs: number): number {
  return Math.max(1000, timeoutMs * 5)
}

function isTimeout(err: Error): boolean {
  // ours (a timer), or ioredis's own `commandTimeout`
  return err instanceof RedisStoreTimeoutError || err.message === 'Command timed out'
}

function fixedResults(res: number[], limits: readonly number[]): PolicyResult[] {
  const counted = Number(res[0]) === 1
  const out: PolicyResult[] = []
  for (let k = 0; k < limits.length; k++) {
    const result: PolicyResult = { exhausted: false, remaining: 0, resetMs: 0 }
    fixedResult(Number(res[2 * k + 1]), Number(res[2 * k + 2]), limits[k]!, counted, result)
    out.push(result)
  }
  return out
}

function slidingResults(res: number[], windows: readonly number[], limits: readonly number[]): PolicyResult[] {
  const allowed = Number(res[0]) === 1
  const out: PolicyResult[] = []
  for (let k = 0; k < limits.length; k++) {
    const result: PolicyResult = { exhausted: false, remaining: 0, resetMs: 0 }
    slidingResult(Number(res[3 * k + 1]), Number(res[3 * k + 2]), Number(res[3 * k + 3]), windows[k]!, limits[k]!, allowed, result)
    out.push(result)
  }
  return out
}

export interface RedisStoreOptions {
  /** Prepended to every key. */
  keyPrefix: string
  /** Upper bound, in ms, on one call. */
  timeoutMs: number
  /** True when the store created the client from a URL and so closes it. */
  owned: boolean
  /** `'fixed'` (Redis's own expiry) or `'sliding'` (the app's clock; keys under `<keyPrefix>sliding:`). Default `'fixed'`. */
  algorithm?: 'fixed' | 'sliding'
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
  readonly algorithm: 'fixed' | 'sliding'
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

  constructor(client: Redis, { keyPrefix, timeoutMs, owned, algorithm = 'fixed' }: RedisStoreOptions) {
    this.client = client
    this.algorithm = algorithm
    // Sliding keys are hashes, fixed ones strings: apart, so switching algorithm never meets WRONGTYPE.
    this.keyPrefix = algorithm === 'sliding' ? `${keyPrefix}sliding:` : keyPrefix
    this.timeoutMs = timeoutMs
    this.retryMs = retryIntervalMs(timeoutMs)
    this.owned = owned
    const command = algorithm === 'sliding' ? SLIDING_COMMAND : FIXED_COMMAND
    const withCommand = client as Redis & Record<string, ScriptCall | undefined>
    // No numberOfKeys: each call passes it first (one key per policy of the route).
    if (typeof withCommand[command] !== 'function') client.defineCommand(command, { lua: algorithm === 'sliding' ? SLIDING_SCRIPT : FIXED_SCRIPT })
    this.call = (withCommand[command] as ScriptCall).bind(client)
    const commandTimeout = client.options.commandTimeout
    this.needsTimer = !(typeof commandTimeout === 'number' && commandTimeout > 0 && commandTimeout <= timeoutMs)
  }

  hit(keys: readonly string[], windows: readonly number[], limits: readonly number[], now: number, cb: HitCallback): void {
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
    const sliding = this.algorithm === 'sliding'
    const n = keys.length
    const args: Array<string | number | ((err: Error | null | undefined, res?: number[]) => void)> = [n]
    for (let k = 0; k < n; k++) args.push(this.keyPrefix + keys[k]!)
    if (sliding) {
      args.push(now)
      for (let k = 0; k < n; k++) args.push(windows[k]!, limits[k]!)
    } else {
      for (let k = 0; k < n; k++) args.push(windows[k]!, limits[k]!)
    }
    args.push((err, res) => {
      if (settled) return
      if (timer !== undefined) clearTimeout(timer)
      if (err || res === undefined) {
        const error = err ?? new FST_OPSKIT_RATE_LIMIT_STORE_NO_RESULT('redis')
        this.answered(error)
        cb(error, null)
        return
      }
      if (this.skipUntil !== 0) this.answered(null)
      cb(null, sliding ? slidingResults(res, windows, limits) : fixedResults(res, limits))
    })
    this.call(...args)
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
