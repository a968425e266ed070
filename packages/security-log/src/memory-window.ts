/** The result of counting one event in a sliding window. */
export interface WindowHit {
  /** Events of this key inside the window (capped at the threshold). */
  count: number
  /** True for exactly one hit per window and key: the one that reached the threshold first. */
  fire: boolean
}

interface Entry {
  /** Timestamps (ms) of the newest events, oldest first; never more than the threshold. */
  times: number[]
  /** Until when a fired key stays quiet. */
  quietUntil: number
}

/**
 * Sliding-window counters in process memory, one per key, bounded: past `maxKeys` keys the least
 * recently used is forgotten. Per instance (each plugin registration makes its own).
 */
export class MemoryWindow {
  readonly #entries = new Map<string, Entry>()
  readonly #maxKeys: number

  constructor(maxKeys: number) {
    this.#maxKeys = maxKeys
  }

  get size(): number {
    return this.#entries.size
  }

  hit(key: string, now: number, windowMs: number, threshold: number): WindowHit {
    let entry = this.#entries.get(key)
    if (entry === undefined) {
      entry = { times: [], quietUntil: 0 }
      if (this.#entries.size >= this.#maxKeys) {
        const oldest = this.#entries.keys().next()
        if (oldest.done !== true) this.#entries.delete(oldest.value)
      }
    } else {
      // Map keeps insertion order: re-inserting makes this key the most recently used.
      this.#entries.delete(key)
    }
    this.#entries.set(key, entry)

    const { times } = entry
    const cutoff = now - windowMs
    let stale = 0
    while (stale < times.length && (times[stale] as number) <= cutoff) stale++
    if (stale > 0) times.splice(0, stale)
    times.push(now)
    if (times.length > threshold) times.shift()

    const count = times.length
    const fire = count >= threshold && now >= entry.quietUntil
    if (fire) entry.quietUntil = now + windowMs
    return { count, fire }
  }
}
