import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

// The HTTP receiver and the log capture are shared with security-log's tests.
export { closedPort, startReceiver } from '../../../test-utils/http-receiver.js'
export type { ReceivedRequest, Receiver, ReceiverAnswer } from '../../../test-utils/http-receiver.js'
export { captureLogs } from '../../../test-utils/alert-logs.js'
export type { LogCapture } from '../../../test-utils/alert-logs.js'

export const REDIS_URL = process.env.REDIS_URL

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
