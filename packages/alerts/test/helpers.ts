import { createServer } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { SMTPServer } from 'smtp-server'

export const REDIS_URL = process.env.REDIS_URL

export interface ReceivedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: any
}

export interface Receiver {
  url: string
  requests: ReceivedRequest[]
  /** Resolves when `n` requests have arrived. */
  received(n: number): Promise<void>
  close(): Promise<void>
}

/**
 * A local HTTP server standing in for a webhook or the Telegram Bot API. `respond` picks the
 * status (and JSON body) of each answer; default 200 `{"ok":true,"result":{}}` as Telegram answers.
 * A `hang` answer never responds (a webhook timeout).
 */
export async function startReceiver(respond?: (req: ReceivedRequest, index: number) => { status: number; body?: unknown } | 'hang'): Promise<Receiver> {
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
      for (const w of [...waiters]) if (requests.length >= w.n) w.resolve()
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
    requests,
    received: (n) => (requests.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface ReceivedMail {
  from: string
  to: string[]
  raw: string
  subject: string
  text: string
}

export interface SmtpReceiver {
  url: string
  port: number
  mails: ReceivedMail[]
  received(n: number): Promise<void>
  close(): Promise<void>
}

/** A real SMTP server on 127.0.0.1 (the `smtp-server` package), no TLS, login alerts / pw. */
export async function startSmtp(): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = []
  const waiters: Array<{ n: number; resolve: () => void }> = []
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'alerts' && auth.password === 'pw') callback(null, { user: auth.username })
      else callback(new Error('Invalid username or password'))
    },
    onData(stream, session, callback) {
      let raw = ''
      stream.on('data', (c: Buffer) => (raw += c.toString('utf8')))
      stream.on('end', () => {
        const [head = '', ...rest] = raw.split('\r\n\r\n')
        const subject = /^Subject: (.*(?:\r\n[ \t].*)*)$/im.exec(head)?.[1]?.replace(/\r\n[ \t]/g, ' ') ?? ''
        mails.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject,
          text: decodeQuotedPrintable(rest.join('\r\n\r\n'), /Content-Transfer-Encoding: quoted-printable/i.test(head)),
        })
        for (const w of [...waiters]) if (mails.length >= w.n) w.resolve()
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return {
    url: `smtp://alerts:pw@127.0.0.1:${port}`,
    port,
    mails,
    received: (n) => (mails.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

function decodeQuotedPrintable(body: string, qp: boolean): string {
  const text = body.replace(/\r\n$/, '')
  if (!qp) return text.replace(/\r\n/g, '\n')
  return Buffer.from(
    text.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8').replace(/\r\n/g, '\n')
}

export interface LogCapture {
  stream: Writable
  lines(): Array<Record<string, any>>
  text(): string
}

export function captureLogs(): LogCapture {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk))
      cb()
    },
  })
  return {
    stream,
    text: () => chunks.join(''),
    lines: () => chunks.join('').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, any>),
  }
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
