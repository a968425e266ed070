import { connect } from 'node:net'
import { Writable } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'

/** Helpers for tests over real sockets: shutdown drains, in-flight requests, refused connections. */

/** The port a listening Fastify instance is bound to. */
export function portOf(app: FastifyInstance): number {
  return (app.server.address() as { port: number }).port
}

/** GET over a fresh connection each time (`connection: close`), as a load balancer's probe makes; the body parsed as JSON. */
export async function probe(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: { connection: 'close' } })
  return { status: res.status, body: await res.json() }
}

/** Resolves with the error code of a TCP connect to `port` on 127.0.0.1 (`'ECONNREFUSED'`), or `null` when it connects. */
export function connectError(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(null)
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}

/** Resolves once the server no longer accepts connections (Fastify called `server.close()`). */
export async function stoppedListening(app: FastifyInstance): Promise<void> {
  while (app.server.listening) await new Promise((resolve) => setTimeout(resolve, 5))
}

/**
 * Adds `GET <path>` whose handler waits until `release()`: `entered` resolves (with the request)
 * once a request is inside the handler, so a test can start `close()` (or hang up) while it is in
 * flight.
 */
export function heldRoute(app: FastifyInstance, path: string, answer: unknown = { done: true }): { entered: Promise<FastifyRequest>; release: () => void } {
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  let enter!: (request: FastifyRequest) => void
  const entered = new Promise<FastifyRequest>((resolve) => (enter = resolve))
  app.get(path, async (request) => {
    enter(request)
    await held
    return answer
  })
  return { entered, release }
}

/** A logger destination; `seen(text)` resolves once a line containing `text` has been written. */
export function logWatch(): { stream: Writable; lines: () => Array<Record<string, any>>; seen: (text: string) => Promise<void> } {
  const chunks: string[] = []
  const waiters: Array<{ text: string; resolve: () => void }> = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk))
      const all = chunks.join('')
      for (const waiter of waiters) if (all.includes(waiter.text)) waiter.resolve()
      callback()
    },
  })
  return {
    stream,
    lines: () => chunks.join('').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, any>),
    seen: (text) => (chunks.join('').includes(text) ? Promise.resolve() : new Promise((resolve) => waiters.push({ text, resolve }))),
  }
}
