import { createTransport } from 'nodemailer'
import { FST_OPSKIT_ALERTS_DELIVERY_FAILED, FST_OPSKIT_ALERTS_INVALID_OPTION } from '../errors.js'
import { alertSubject, alertText } from '../message.js'
import type { AlertSeverity, AlertSink, SinkMessage } from '../message.js'
import { positiveTimeout, severitiesOf } from './sink-options.js'

export interface EmailSinkOptions {
  /** Only alerts of these severities go here (summaries always do), e.g. `['critical', 'error']`. Default all. */
  severities?: readonly AlertSeverity[]
  /** SMTP URL: `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`. Never logged. */
  url: string
  /** Sender address, e.g. `'opskit <alerts@example.com>'`. */
  from: string
  /** One recipient or several. */
  to: string | string[]
  /** Bound on connecting, the greeting and each socket wait. Default `10000` ms. */
  timeoutMs?: number
}

function fail(option: string, problem: string): never {
  throw new FST_OPSKIT_ALERTS_INVALID_OPTION(`emailSink.${option}`, problem)
}

/** Sends each alert as a plain-text e-mail (subject: its first line) through nodemailer over SMTP. */
export function emailSink({ url, from, to, timeoutMs = 10_000, severities }: EmailSinkOptions): AlertSink {
  if (typeof url !== 'string' || !/^smtps?:\/\/[^/]/.test(url)) fail('url', 'expected an smtp:// or smtps:// URL')
  if (typeof from !== 'string' || !from.includes('@')) fail('from', 'expected an e-mail address')
  const recipients = Array.isArray(to) ? to : [to]
  if (recipients.length === 0 || !recipients.every((r) => typeof r === 'string' && r.includes('@'))) fail('to', 'expected one or more e-mail addresses')
  positiveTimeout(timeoutMs, 'timeoutMs', fail)
  const transport = createTransport({ url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs })
  return {
    name: 'email',
    ...severitiesOf(severities, fail),
    async send(message: SinkMessage): Promise<void> {
      try {
        await transport.sendMail({ from, to: recipients, subject: alertSubject(message), text: alertText(message) })
      } catch (err) {
        // nodemailer's codes (ECONNECTION, ETIMEDOUT, EENVELOPE…), never the URL with its password.
        const e = err as { code?: string; responseCode?: number; message?: string }
        const cause = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN)\b/.exec(String(e?.message))?.[1]
        throw new FST_OPSKIT_ALERTS_DELIVERY_FAILED(`smtp delivery failed: ${e?.code ?? 'error'}${cause ? ` ${cause}` : ''}${e?.responseCode ? ` ${e.responseCode}` : ''}`)
      }
    },
  }
}
