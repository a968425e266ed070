import { maskEmail, redact } from '@opskit/core'
import type { Severity } from './actions.js'
import type { SecurityRecord } from './record.js'

/** What a sink receives. E-mails are masked and details redacted, as in log lines. */
export interface Alert {
  /** `Security alert: <action> (<severity>)` */
  title: string
  /** A plain-text, multi-line description (what Telegram and Slack-style webhooks show). */
  text: string
  action: string
  severity: Severity
  event: SecurityRecord
}

/** Where alerts go: `webhookSink(url)`, `telegramSink({ botToken, chatId })` (the sinks of
 * `@opskit/alerts`, so `emailSink()` works too) or your own. */
export interface AlertSink {
  /** Appears in log lines about this sink; never put a secret in it. */
  name: string
  /** Resolves when the alert was delivered; rejects to have it retried. */
  send(alert: Alert): Promise<void>
}

export function buildAlert(record: SecurityRecord): Alert {
  const event: SecurityRecord = {
    ...record,
    user_email: record.user_email === null ? null : maskEmail(record.user_email),
    details: record.details === null ? null : redact(record.details),
  }
  const title = `Security alert: ${record.action} (${record.severity})`
  const lines = [title]
  if (event.user_id !== null || event.user_email !== null) {
    lines.push(`user: ${event.user_id ?? '-'}${event.user_email !== null ? ` (${event.user_email})` : ''}`)
  }
  if (event.ip_address !== null) lines.push(`ip: ${event.ip_address}`)
  if (event.request_path !== null) lines.push(`path: ${event.request_path}`)
  if (event.request_id !== null) lines.push(`request_id: ${event.request_id}`)
  if (event.details !== null) lines.push(`details: ${JSON.stringify(event.details)}`)
  lines.push(`time: ${event.created_at}`, `event_id: ${event.id}`)
  return { title, text: lines.join('\n'), action: record.action, severity: record.severity, event }
}
