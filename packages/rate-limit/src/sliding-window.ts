import type { PolicyResult } from './store.js'

/**
 * The sliding-window counter, shared by the memory store and (as Lua, in redis-store.ts) the Redis
 * store, so both decide alike for the same sequence of requests at the same times.
 *
 * Windows are aligned on the epoch: window `i = floor(now / w)`. A key holds the window index it
 * last counted in (`i`), that window's count (`c`) and the one before's (`p`). At offset
 * `e = now - i * w` into the window, the estimate is `p * (w - e) / w + c`: the previous window's
 * count weighted by the part of it still inside the sliding window of length `w` ending now. A
 * request is allowed when the estimate with it stays within the limit; everything is kept in
 * integers (`p * (w - e) + (c + 1) * w <= limit * w`), so JS and Lua (both IEEE doubles, exact below
 * 2^53) agree to the unit. A rejected request is not counted: a client that keeps retrying gets
 * in again as soon as the estimate allows, rather than being locked out for good.
 */

/** A key's counters, shifted to the window `now` falls in. Mutated in place by `slidingShift`. */
export interface SlidingEntry {
  i: number
  c: number
  p: number
}

/**
 * Moves `entry` to the window of `now` (the current count becomes the previous one after one window,
 * both are dropped after two) and returns the offset into that window. A `now` behind the entry's
 * window (another instance's clock ahead of ours) stays in the entry's window, offset 0.
 */
export function slidingShift(entry: SlidingEntry, now: number, w: number): number {
  const index = Math.floor(now / w)
  if (entry.i < index) {
    entry.p = entry.i === index - 1 ? entry.c : 0
    entry.c = 0
    entry.i = index
  }
  const e = now - entry.i * w
  return e < 0 ? 0 : e
}

/** True when one more request fits: `p * (w - e) + (c + 1) * w <= limit * w`. */
export function slidingAllows(p: number, c: number, e: number, w: number, limit: number): boolean {
  return p * (w - e) + (c + 1) * w <= limit * w
}

/**
 * Fills `out` from a key's counters after the decision: `c` includes this request when `counted`.
 *
 * `resetMs` is the draft's `t` for a sliding window ("the number of seconds until additional quota
 * is made available", draft-ietf-httpapi-ratelimit-headers since -10): the time, with no further
 * requests, until the weighted count has fallen enough for `remaining` to grow by one, so for a
 * rejected request the time until a retry is allowed. While the previous window still weighs, the
 * count falls by `p` per ms of `w` (`p * (w - e - τ) + c * w`); after the window ends the current
 * count becomes the previous one and falls by `c` (`c * (w - u)`). It can therefore exceed the time
 * left in the window (up to two windows for the last unit), which is right for a sliding window.
 */
export function slidingResult(p: number, c: number, e: number, w: number, limit: number, counted: boolean, out: PolicyResult): void {
  const weighted = p * (w - e) + c * w
  const quota = limit * w
  out.exhausted = !counted && weighted + w > quota
  const remaining = weighted >= quota ? 0 : Math.floor((quota - weighted) / w)
  out.remaining = out.exhausted ? 0 : remaining
  out.resetMs = restoreMs(p, c, e, w, weighted, (limit - out.remaining - 1) * w)
}

function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b)
}

/** Ms until the weighted count (`weighted`, in units of 1/w) falls to `target` or below. */
function restoreMs(p: number, c: number, e: number, w: number, weighted: number, target: number): number {
  if (target < 0) return w - e // a limit of 0: nothing is ever restored; report the window's end
  if (weighted <= target) return 0
  if (p > 0 && weighted - target <= p * (w - e)) return ceilDiv(weighted - target, p)
  return w - e + ceilDiv(c * w - target, c)
}
