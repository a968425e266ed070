/** One counter read after an increment: hits in the current window and ms until it resets. */
export interface CounterState {
  current: number
  ttl: number
}

export type IncrCallback = (err: Error | null, state: CounterState | null) => void

/**
 * Where the counters live. `incrSync` (memory) answers in the same tick; `incr` (Redis) answers
 * through a callback, at most one round trip per call.
 */
export interface CounterStore {
  readonly kind: 'memory' | 'redis'
  incrSync?(key: string, windowMs: number): CounterState
  incr(key: string, windowMs: number, cb: IncrCallback): void
  close(): Promise<void>
}
