import { FST_OPSKIT_CORE_INVALID_LABEL_CAP } from './errors.js'
import { isPositiveInt } from './option-checks.js'

/** The label value that stands for every value past the cap. */
export const OVERFLOW_LABEL = 'other'

/**
 * A label value guard for free-text labels (an audit `action`, a security event `action`): the
 * first `max` distinct values pass through, every later new value becomes `overflow` (default
 * `'other'`), so a caller putting ids in a label cannot create a time series per event. Each call
 * makes its own set; keep one per metric, never at module level. In core (not in `@opskit/metrics`)
 * so that a plugin can cap its labels without loading prom-client; `@opskit/metrics` re-exports it.
 */
export function labelCap(max: number, overflow: string = OVERFLOW_LABEL): (value: string) => string {
  if (!isPositiveInt(max)) throw new FST_OPSKIT_CORE_INVALID_LABEL_CAP(String(max))
  const seen = new Set<string>()
  return (value) => {
    if (seen.has(value)) return value
    if (seen.size >= max) return overflow
    seen.add(value)
    return value
  }
}
