import type { FastifyReply, FastifyRequest } from 'fastify'
import { pathOf } from '@opskit/core'

export interface SlowRequest {
  request_id: string
  method: string
  /** The route template (`unmatched` for a 404 of no route). */
  route: string
  /** The path, without the query string, capped at 256 characters. */
  path: string
  status_code: number
  duration_ms: number
  at: string
}

interface Minute {
  items: SlowRequest[]
  /** Duration of the fastest kept entry once the minute holds `size` entries. */
  floor: number
}

const MINUTES = 60
const MAX_PATH = 256

function shownPath(url: string): string {
  const path = pathOf(url)
  return path.length > MAX_PATH ? path.slice(0, MAX_PATH) : path
}

/**
 * The slowest requests of the last hour: each minute keeps its `size` slowest. A request costs one
 * comparison with the minute's floor (`reply.elapsedTime`, which Fastify has measured anyway);
 * only one that enters the list builds an entry. Routes with `config.metrics: false` (the metrics
 * scrape, the console's own API) are left out. `rotate()` runs on the console's minute timer.
 */
export class SlowRequests {
  readonly #size: number
  readonly #past: Minute[] = []
  #current: Minute = { items: [], floor: 0 }

  constructor(size: number) {
    this.#size = size
  }

  readonly onResponse = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const ms = reply.elapsedTime
    const minute = this.#current
    // Routes left out of the RED metrics (the scrape, the console's own API) are left out here too.
    if ((minute.items.length < this.#size || ms > minute.floor) && request.routeOptions.config?.metrics !== false) {
      this.#keep(minute, request, reply, ms)
    }
    done()
  }

  #keep(minute: Minute, request: FastifyRequest, reply: FastifyReply, ms: number): void {
    const entry: SlowRequest = {
      request_id: String(request.id),
      method: request.method,
      route: request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched'),
      path: shownPath(request.url),
      status_code: reply.statusCode,
      duration_ms: Math.round(ms * 100) / 100,
      at: new Date().toISOString(),
    }
    const items = minute.items
    let i = items.length
    while (i > 0 && (items[i - 1] as SlowRequest).duration_ms < entry.duration_ms) i--
    items.splice(i, 0, entry)
    if (items.length > this.#size) items.pop()
    if (items.length === this.#size) minute.floor = (items[items.length - 1] as SlowRequest).duration_ms
  }

  rotate(): void {
    this.#past.push(this.#current)
    if (this.#past.length > MINUTES) this.#past.shift()
    this.#current = { items: [], floor: 0 }
  }

  /** The `size` slowest of the hour, slowest first. */
  list(): SlowRequest[] {
    const all = [this.#current, ...this.#past].flatMap((minute) => minute.items)
    return all.sort((a, b) => b.duration_ms - a.duration_ms).slice(0, this.#size)
  }
}
