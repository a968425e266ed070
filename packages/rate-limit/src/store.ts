/** One policy's answer after a request was counted (or, past a limit, looked at). */
export interface PolicyResult {
  /** This policy alone would reject the request. */
  exhausted: boolean
  /** Requests still allowed now (0 when exhausted). */
  remaining: number
  /**
   * Ms until more quota is available: the end of the window (fixed), or the time the weighted count
   * needs to fall far enough for one more request (sliding; see sliding-window.ts).
   */
  resetMs: number
}

export type HitCallback = (err: Error | null, results: PolicyResult[] | null) => void

/**
 * Where the counters live. `hit` counts one request against every policy of a route (key `keys[i]`,
 * window `windows[i]` ms, limit `limits[i]`) at time `now` (ms since the epoch). `hitSync` (memory)
 * answers in the same tick into `out`; `hit` (Redis) answers through a callback after one round trip.
 */
export interface CounterStore {
  readonly kind: 'memory' | 'redis'
  readonly algorithm: 'fixed' | 'sliding'
  hitSync?(keys: readonly string[], windows: readonly number[], limits: readonly number[], now: number, out: PolicyResult[]): void
  hit(keys: readonly string[], windows: readonly number[], limits: readonly number[], now: number, cb: HitCallback): void
  close(): Promise<void>
}
