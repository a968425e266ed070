export type AlertSeverity = 'critical' | 'error' | 'warning' | 'info'
export type AlertKind = 'firing' | 'resolved' | 'summary'

/** What a sink receives for each alert: the webhook's JSON body, as is. */
export interface AlertMessage {
  /** The rule name (`check_down`, `high_error_rate`, a custom rule's name, or `summary`). */
  alert: string
  severity: AlertSeverity
  kind: AlertKind
  /** `service` option (default `APP_NAME`): instances with the same service share alerts. */
  service: string
  /** This process: `<hostname>:<pid>`. */
  instance: string
  /** One line saying what happened. */
  message: string
  /** ISO 8601 time of the transition. */
  at: string
  /** Rule facts (`check`, `count`, `p95_seconds`, `used_percent`…), passed through `redact()`. */
  details: Record<string, unknown>
}

/** Anything a sink can send: an `AlertMessage`, or a message that brings its own `text`
 * (security-log's alerts do), with an optional `title` used as the e-mail subject. */
export type SinkMessage = AlertMessage | { text: string; title?: string }

/** Where alerts go: `telegramSink()`, `webhookSink()`, `emailSink()` or your own. */
export interface AlertSink {
  /** Appears in log lines and the `sink` label; never put a secret in it. */
  name: string
  /** Resolves when delivered; rejects to have it retried. */
  send(message: SinkMessage): Promise<void>
  /** Only alerts of these severities (firing and resolved) go to this sink; summaries always do. Default all. */
  severities?: readonly AlertSeverity[]
}

function hasOwnText(message: SinkMessage): message is { text: string; title?: string } {
  return typeof (message as { text?: unknown }).text === 'string'
}

/** The subject of an alert: for `check_down` and `disk_space`, the check (`db`). */
function subjectOf(message: AlertMessage): string {
  const check = message.details.check
  return typeof check === 'string' && check.length > 0 ? ` ${check}` : ''
}

/**
 * The plain text Telegram and e-mail show: `[critical] check_down db: <message>` when firing,
 * `[resolved] check_down db` when it clears, `[summary] <service>: …` for the daily digest;
 * then the service, instance and time.
 */
export function alertText(message: SinkMessage): string {
  if (hasOwnText(message)) return message.text
  const footer = `service: ${message.service} (${message.instance})\nat: ${message.at}`
  if (message.kind === 'resolved') return `[resolved] ${message.alert}${subjectOf(message)}\n${message.message}\n${footer}`
  if (message.kind === 'summary') return `[summary] ${message.service}: ${message.message}\n${footer}`
  return `[${message.severity}] ${message.alert}${subjectOf(message)}: ${message.message}\n${footer}`
}

/** The e-mail subject: the `title`, else the first line of the text. */
export function alertSubject(message: SinkMessage): string {
  if (hasOwnText(message) && typeof message.title === 'string') return message.title
  return alertText(message).split('\n', 1)[0] ?? ''
}
