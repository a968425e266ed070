import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

export interface Envelope {
  url: string
  header: Record<string, any>
  items: Array<{ header: Record<string, any>; payload: any }>
  raw: string
}

export interface Ingest {
  dsn: string
  envelopes: Envelope[]
  /** Error events (the `event` items), in arrival order. */
  events(): any[]
  received(n: number): Promise<void>
  close(): Promise<void>
}

/**
 * A local stand-in for Sentry's ingest: receives the SDK's envelopes on `/api/<project>/envelope/`
 * (gzip or not) and parses the real wire format (newline-separated JSON: envelope header, then an
 * item header and payload per item). `answer` picks the status; `'hang'` never answers.
 */
export async function startIngest(answer: () => number | 'hang' = () => 200): Promise<Ingest> {
  const envelopes: Envelope[] = []
  const waiters: Array<{ n: number; resolve: () => void }> = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let body = Buffer.concat(chunks)
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
      const raw = body.toString('utf8')
      const lines = raw.split('\n').filter((l) => l.length > 0)
      const items: Envelope['items'] = []
      for (let i = 1; i + 1 < lines.length; i += 2) items.push({ header: JSON.parse(lines[i]!), payload: JSON.parse(lines[i + 1]!) })
      envelopes.push({ url: req.url ?? '', header: JSON.parse(lines[0] ?? '{}'), items, raw })
      for (const w of [...waiters]) if (envelopes.length >= w.n) w.resolve()
      const status = answer()
      if (status === 'hang') return
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    dsn: `http://publickey@127.0.0.1:${port}/1`,
    envelopes,
    events: () => envelopes.flatMap((e) => e.items.filter((i) => i.header.type === 'event').map((i) => i.payload)),
    received: (n) => (envelopes.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
