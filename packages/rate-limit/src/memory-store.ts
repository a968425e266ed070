import { createRequire } from 'node:module'
import { LruMap } from 'toad-cache'
import { fixedResult } from './fixed-window.js'
import { slidingAllows, slidingResult, slidingShift, type SlidingEntry } from './sliding-window.js'
import type { CounterStore, HitCallback, PolicyResult } from './store.js'

interface CounterState {
  current: number
  ttl: number
}
interface LocalStoreInstance {
  lru: { size: number }
  incr(key: string, cb: (err: null, state: CounterState) => void, timeWindow: number, max: number): void
  read(key: string, cb: (err: null, state: CounterState) => void, timeWindow: number, max: number): void
}
type LocalStoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, cache: number) => LocalStoreInstance

// @fastify/rate-limit's own fixed-window store over a toad-cache LRU: the counters stay bounded
// to `cache` keys however many distinct clients arrive (the least recently seen is dropped).
const require = createRequire(import.meta.url)
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as LocalStoreCtor

function resultsFor(count: number): PolicyResult[] {
  return Array.from({ length: count }, () => ({ exhausted: false, remaining: 0, resetMs: 0 }))
}

/**
 * In-process fixed-window counters (`@fastify/rate-limit`'s LocalStore: a window per key from its
 * first request, on `Date.now()`), bounded to `cache` distinct keys (LRU). Answers synchronously.
 * With several policies, a request one of them rejects is counted in none.
 */
export class MemoryStore implements CounterStore {
  readonly kind = 'memory'
  readonly algorithm = 'fixed'
  private readonly local: LocalStoreInstance
  private last: CounterState = { current: 0, ttl: 0 }
  // LocalStore calls back synchronously: one bound callback for the store's life, none per request.
  private readonly capture = (_err: null, state: CounterState): void => {
    this.last = state
  }

  constructor(cache: number) {
    this.local = new LocalStore(false, false, cache)
  }

  /** Distinct keys held right now (never more than `cache`). */
  get size(): number {
    return this.local.lru.size
  }

  hitSync(keys: readonly string[], windows: readonly number[], limits: readonly number[], _now: number, out: PolicyResult[]): void {
    const n = keys.length
    if (n > 1) {
      // Several policies: a request one of them rejects is counted in none (as the Redis script).
      let counted = true
      for (let k = 0; k < n; k++) {
        this.local.read(keys[k]!, this.capture, windows[k]!, 0)
        fixedResult(this.last.current, this.last.ttl, limits[k]!, false, out[k]!)
        if (out[k]!.exhausted) counted = false
      }
      if (!counted) return
    }
    // One policy: counting a rejected request too changes nothing a client sees (the window is full).
    for (let k = 0; k < n; k++) {
      this.local.incr(keys[k]!, this.capture, windows[k]!, 0)
      fixedResult(this.last.current, this.last.ttl, limits[k]!, true, out[k]!)
    }
  }

  hit(keys: readonly string[], windows: readonly number[], limits: readonly number[], now: number, cb: HitCallback): void {
    const out = resultsFor(keys.length)
    this.hitSync(keys, windows, limits, now, out)
    cb(null, out)
  }

  async close(): Promise<void> {}
}

/**
 * In-process sliding-window counters (see sliding-window.ts), on the `now` the limiter passes,
 * bounded to `cache` distinct keys (toad-cache LRU, as the fixed store). Answers synchronously.
 * A request is counted against every policy only when all of them allow it.
 */
export class MemorySlidingStore implements CounterStore {
  readonly kind = 'memory'
  readonly algorithm = 'sliding'
  private readonly lru: LruMap<SlidingEntry>
  private readonly entries: SlidingEntry[] = []
  private readonly offsets: number[] = []

  constructor(cache: number) {
    this.lru = new LruMap<SlidingEntry>(cache)
  }

  /** Distinct keys held right now (never more than `cache`). */
  get size(): number {
    return this.lru.size
  }

  hitSync(keys: readonly string[], windows: readonly number[], limits: readonly number[], now: number, out: PolicyResult[]): void {
    const { entries, offsets } = this
    let allowed = true
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!
      let entry = this.lru.get(key)
      if (entry === undefined) {
        entry = { i: Math.floor(now / windows[k]!), c: 0, p: 0 }
        this.lru.set(key, entry)
      }
      const e = slidingShift(entry, now, windows[k]!)
      entries[k] = entry
      offsets[k] = e
      if (allowed && !slidingAllows(entry.p, entry.c, e, windows[k]!, limits[k]!)) allowed = false
    }
    for (let k = 0; k < keys.length; k++) {
      const entry = entries[k]!
      if (allowed) entry.c++
      slidingResult(entry.p, entry.c, offsets[k]!, windows[k]!, limits[k]!, allowed, out[k]!)
    }
  }

  hit(keys: readonly string[], windows: readonly number[], limits: readonly number[], now: number, cb: HitCallback): void {
    const out = resultsFor(keys.length)
    this.hitSync(keys, windows, limits, now, out)
    cb(null, out)
  }

  async close(): Promise<void> {}
}
