/** Cumulative bucket counts of one histogram, `counts[i]` requests at or below `bounds[i]` seconds;
 * the last count (one more than `bounds`) is the +Inf bucket, i.e. the total. */
export interface Buckets {
  readonly bounds: readonly number[]
  readonly counts: number[]
}

/**
 * The `q` quantile (0–1) in milliseconds, as Prometheus' `histogram_quantile` estimates it: linear
 * interpolation inside the bucket holding the rank; a rank in the +Inf bucket gives the highest
 * finite bound. `null` when there were no requests.
 */
export function histogramQuantile(q: number, { bounds, counts }: Buckets): number | null {
  const total = counts[counts.length - 1] ?? 0
  if (total <= 0) return null
  const rank = q * total
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] as number
    if (count < rank) continue
    if (i >= bounds.length) return (bounds[bounds.length - 1] ?? 0) * 1000
    const upper = bounds[i] as number
    const lower = i === 0 ? 0 : (bounds[i - 1] as number)
    const below = i === 0 ? 0 : (counts[i - 1] as number)
    const inBucket = count - below
    const seconds = inBucket <= 0 ? upper : lower + (upper - lower) * ((rank - below) / inBucket)
    return Math.round(seconds * 1000 * 100) / 100
  }
  return (bounds[bounds.length - 1] ?? 0) * 1000
}
