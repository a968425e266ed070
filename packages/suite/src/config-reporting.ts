/** `SENTRY_*`: error reports (`@opskit/error-reports`). Set when `SENTRY_DSN` is. */
export interface SentryConfig {
  /** `SENTRY_DSN` (a credential: never echoed). */
  dsn: string
  /** `SENTRY_ENVIRONMENT`; unset: `ENVIRONMENT`. */
  environment?: string
  /** `SENTRY_TRACES_SAMPLE_RATE`, 0–1, default `0`. */
  tracesSampleRate: number
}

/** Alert sinks from the environment (`@opskit/alerts`). Set when at least one sink is. */
export interface AlertSinksConfig {
  /** `TELEGRAM_BOT_TOKEN` + `TELEGRAM_CHAT_ID` (both or neither). */
  telegram?: { botToken: string; chatId: string }
  /** `ALERT_WEBHOOK_URL` (never echoed: it often holds a secret path). */
  webhookUrl?: string
  /** `SMTP_URL` + `ALERT_EMAIL_FROM` + `ALERT_EMAIL_TO` (comma-separated; all three or none). */
  email?: { url: string; from: string; to: string[] }
}

type Bad = (variable: string, message: string) => void
type Env = Record<string, string | undefined>

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function isUrl(value: string, protocols: readonly string[], needsUser = false): boolean {
  try {
    const url = new URL(value)
    return protocols.includes(url.protocol) && url.hostname !== '' && (!needsUser || url.username !== '')
  } catch {
    return false
  }
}

const ADDRESS = /^(?:[^<>\r\n]*<)?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$/

/** `SENTRY_DSN`, `SENTRY_ENVIRONMENT`, `SENTRY_TRACES_SAMPLE_RATE`. */
export function readSentryConfig(env: Env, bad: Bad): SentryConfig | undefined {
  const dsn = read(env, 'SENTRY_DSN')
  if (dsn !== undefined && !(isUrl(dsn, ['http:', 'https:'], true) && /\/[^/]+$/.test(new URL(dsn).pathname))) {
    bad('SENTRY_DSN', 'expected a Sentry DSN such as https://<key>@<host>/<project> (value not shown)')
  }
  const environment = read(env, 'SENTRY_ENVIRONMENT')
  if (environment !== undefined && !/^[\x21-\x7e]{1,64}$/.test(environment)) {
    bad('SENTRY_ENVIRONMENT', 'expected a name of 1-64 visible characters without spaces')
  }
  const rateRaw = read(env, 'SENTRY_TRACES_SAMPLE_RATE')
  const rate = rateRaw === undefined ? 0 : Number(rateRaw)
  if (rateRaw !== undefined && (!/^\d*\.?\d+$/.test(rateRaw) || rate < 0 || rate > 1)) {
    bad('SENTRY_TRACES_SAMPLE_RATE', `expected a number from 0 to 1, got ${JSON.stringify(rateRaw.slice(0, 40))}`)
  }
  if (dsn === undefined) return undefined
  return { dsn, tracesSampleRate: rate, ...(environment !== undefined ? { environment } : {}) }
}

/** `TELEGRAM_BOT_TOKEN` + `TELEGRAM_CHAT_ID`, `ALERT_WEBHOOK_URL`, `SMTP_URL` + `ALERT_EMAIL_FROM` + `ALERT_EMAIL_TO`. */
export function readAlertSinksConfig(env: Env, bad: Bad): AlertSinksConfig | undefined {
  const out: AlertSinksConfig = {}
  const botToken = read(env, 'TELEGRAM_BOT_TOKEN')
  const chatId = read(env, 'TELEGRAM_CHAT_ID')
  if (botToken !== undefined && !/^\d+:[A-Za-z0-9_-]+$/.test(botToken)) bad('TELEGRAM_BOT_TOKEN', 'expected a bot token such as 123456:ABC-def (value not shown)')
  if (chatId !== undefined && !/^(-?\d{1,20}|@[A-Za-z0-9_]{5,64})$/.test(chatId)) bad('TELEGRAM_CHAT_ID', 'expected a numeric chat id (-100…) or @channelname')
  if ((botToken === undefined) !== (chatId === undefined)) {
    bad(botToken === undefined ? 'TELEGRAM_BOT_TOKEN' : 'TELEGRAM_CHAT_ID', 'TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID go together; set both or neither')
  }
  if (botToken !== undefined && chatId !== undefined) out.telegram = { botToken, chatId }

  const webhookUrl = read(env, 'ALERT_WEBHOOK_URL')
  if (webhookUrl !== undefined) {
    if (isUrl(webhookUrl, ['http:', 'https:'])) out.webhookUrl = webhookUrl
    else bad('ALERT_WEBHOOK_URL', 'expected an http:// or https:// URL (value not shown)')
  }

  const smtpUrl = read(env, 'SMTP_URL')
  const from = read(env, 'ALERT_EMAIL_FROM')
  const toRaw = read(env, 'ALERT_EMAIL_TO')
  if (smtpUrl !== undefined && !isUrl(smtpUrl, ['smtp:', 'smtps:'])) bad('SMTP_URL', 'expected an smtp:// or smtps:// URL (value not shown)')
  if (from !== undefined && !ADDRESS.test(from)) bad('ALERT_EMAIL_FROM', 'expected an e-mail address such as alerts@example.com')
  const to = toRaw === undefined ? [] : toRaw.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (toRaw !== undefined && (to.length === 0 || !to.every((a) => ADDRESS.test(a)))) bad('ALERT_EMAIL_TO', 'expected comma-separated e-mail addresses')
  const given = [smtpUrl, from, toRaw].filter((v) => v !== undefined).length
  if (given > 0 && given < 3) {
    const missing = [['SMTP_URL', smtpUrl], ['ALERT_EMAIL_FROM', from], ['ALERT_EMAIL_TO', toRaw]].filter(([, v]) => v === undefined).map(([n]) => n as string)
    for (const name of missing) bad(name, 'SMTP_URL, ALERT_EMAIL_FROM and ALERT_EMAIL_TO go together; set all three or none')
  }
  if (smtpUrl !== undefined && from !== undefined && toRaw !== undefined) out.email = { url: smtpUrl, from, to }

  return out.telegram === undefined && out.webhookUrl === undefined && out.email === undefined ? undefined : out
}
