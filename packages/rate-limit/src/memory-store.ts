import { LruMap } from 'toad-cache'
import { fixedResult } from './fixed-window.js'
import { slidingAllows, slidingResult, slidingShift, type SlidingEntry } from './sliding-window.js'
import type { CounterStore, HitCallback, PolicyResult } from './store.js'

/** One key's fixed window: requests counted since `startMs`. */
interface FixedEntry {
  current: number
  startMs: number
}

function resultsFor(count: number): PolicyResult[] {
  return Array.from({ length: count }, () => ({ exhausted: false, remaining: 0, resetMs: 0 }))
}

/**
 * In-process fixed-window counters (the window `@fastify/rate-limit`'s LocalStore keeps: a window
 * per key from its first request, on `Date.now()`), over a toad-cache LRU bounded to `cache`
 * distinct keys (the least recently seen is dropped). Answers synchronously. With several
 * policies, a request one of them rejects is counted in none.
 */
export class MemoryStore implements CounterStore {
  readonly kind = 'memory'
  readonly algorithm = 'fixed'
  private readonly lru: LruMap<FixedEntry>

  constructor(cache: number) {
    this.lru = new LruMap<FixedEntry>(cache)
  }

  /** Distinct keys held right now (never more than `cache`). */
  get size(): number {
    return this.lru.size
  }

  hitSync(keys: readonly string[], windows: readonly number[], limits: readonly number[], _now: number, out: PolicyResult[]): void {
    // The limiter hands a fixed-window store no time (it needs none for Redis): the process clock.
    const now = Date.now()
    const n = keys.length
    if (n > 1) {
      // Several policies: a request one of them rejects is counted in none (as the Redis script).
      let counted = true
      for (let k = 0; k < n; k++) {
        const entry = this.lru.get(keys[k]!)
        const window = windows[k]!
        if (entry === undefined || entry.startMs + window <= now) fixedResult(0, 0, limits[k]!, false, out[k]!)
        else fixedResult(entry.current, window - (now - entry.startMs), limits[k]!, false, out[k]!)
        if (out[k]!.exhausted) counted = false
      }
      if (!counted) return
    }
    // One policy: counting a rejected request too changes nothing a client sees (the window is full).
    for (let k = 0; k < n; k++) {
      const key = keys[k]!
      const window = windows[k]!
      let entry = this.lru.get(key)
      if (entry === undefined) entry = { current: 1, startMs: now }
      else if (entry.startMs + window <= now) {
        entry.current = 1
        entry.startMs = now
      } else entry.current++
      this.lru.set(key, entry)
      fixedResult(entry.current, window - (now - entry.startMs), limits[k]!, true, out[k]!)
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
