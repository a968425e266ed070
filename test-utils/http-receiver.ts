import { createServer } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  /** The JSON body, parsed; the raw text when it is not JSON (a Sentry envelope). */
  body: any
}

/** How the receiver answers one request: a status (and JSON body), or `'hang'` (never answers: a timeout). */
export type ReceiverAnswer = { status: number; body?: unknown } | 'hang'

export interface Receiver {
  /** `http://127.0.0.1:<port>` */
  url: string
  /** `127.0.0.1:<port>`, for URLs that carry credentials (`http://key@<host>/1`, a Sentry DSN). */
  host: string
  /** Every request so far, in arrival order. */
  requests: ReceivedRequest[]
  /** Resolves when `n` requests have arrived (at once if they already have). */
  received(n: number): Promise<void>
  /** Closes the server and every connection (hanging ones included). */
  close(): Promise<void>
}

/**
 * A local HTTP server standing in for a webhook, the Telegram Bot API, a Sentry ingest or any HTTP
 * endpoint a plugin sends to. `respond` picks each answer (default 200 `{"ok":true,"result":{}}`, as Telegram
 * answers); tests await `received(n)` instead of polling or sleeping.
 */
export async function startReceiver(respond?: (req: ReceivedRequest, index: number) => ReceiverAnswer): Promise<Receiver> {
  const requests: ReceivedRequest[] = []
  const waiters: Array<{ n: number; resolve: () => void }> = []
  const server = createServer((req, res) => {
    let raw = ''
    req.on('data', (c) => (raw += String(c)))
    req.on('end', () => {
      let body: unknown = raw
      try {
        body = JSON.parse(raw)
      } catch {
        // keep the raw text
      }
      const received: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }
      const index = requests.push(received) - 1
      for (const w of [...waiters]) {
        if (requests.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve()
        }
      }
      const answer = respond?.(received, index) ?? { status: 200, body: { ok: true, result: {} } }
      if (answer === 'hang') return
      res.writeHead(answer.status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(answer.body ?? { ok: answer.status < 400 }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    received: (n) => (requests.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A port on 127.0.0.1 that nothing listens on (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
