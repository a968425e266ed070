import type { PolicyResult } from './store.js'

/**
 * Fills `out` for a fixed-window policy: `current` is the count after this request when `counted`,
 * before it otherwise (another policy of the route rejected it, so none counted it); `ttl` the ms
 * until the window ends (0: none started). Shared by the memory and Redis stores.
 */
export function fixedResult(current: number, ttl: number, limit: number, counted: boolean, out: PolicyResult): void {
  out.exhausted = counted ? current > limit : current + 1 > limit
  out.remaining = out.exhausted || current >= limit ? 0 : limit - current
  out.resetMs = ttl
}
