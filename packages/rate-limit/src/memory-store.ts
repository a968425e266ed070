import { createRequire } from 'node:module'
import type { CounterState, CounterStore, IncrCallback } from './store.js'

interface LocalStoreInstance {
  lru: { size: number }
  incr(key: string, cb: (err: null, state: CounterState) => void, timeWindow: number, max: number): void
}
type LocalStoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, cache: number) => LocalStoreInstance

// @fastify/rate-limit's own fixed-window store over a toad-cache LRU: the counters stay bounded
// to `cache` keys however many distinct clients arrive (the least recently seen is dropped).
const require = createRequire(import.meta.url)
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as LocalStoreCtor

/** In-process counters, bounded to `cache` distinct keys (LRU). Answers synchronously. */
export class MemoryStore implements CounterStore {
  readonly kind = 'memory'
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

  incrSync(key: string, windowMs: number): CounterState {
    this.local.incr(key, this.capture, windowMs, 0)
    return this.last
  }

  incr(key: string, windowMs: number, cb: IncrCallback): void {
    cb(null, this.incrSync(key, windowMs))
  }

  async close(): Promise<void> {}
}
