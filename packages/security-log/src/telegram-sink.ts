import type { Alert, AlertSink } from './alert.js'
import { describeFetchError } from './webhook-sink.js'

export interface TelegramSinkOptions {
  /** The bot token from @BotFather. Never logged. */
  botToken: string
  /** Chat, group or channel id (`-100…`) or `@channelname`. */
  chatId: string | number
  /** Bot API base URL. Default `'https://api.telegram.org'` (a local server in tests, or a proxy). */
  apiBaseUrl?: string
  /** Abort a delivery after this long. Default `5000` ms. */
  timeoutMs?: number
}

const TELEGRAM_MAX_TEXT = 4096

/** Sends each alert's text through the Telegram Bot API `sendMessage`. */
export function telegramSink({ botToken, chatId, apiBaseUrl = 'https://api.telegram.org', timeoutMs = 5000 }: TelegramSinkOptions): AlertSink {
  if (typeof botToken !== 'string' || botToken.length === 0) throw new TypeError('@opskit/security-log: telegramSink needs botToken')
  if ((typeof chatId !== 'string' || chatId.length === 0) && typeof chatId !== 'number') {
    throw new TypeError('@opskit/security-log: telegramSink needs chatId')
  }
  let base: URL
  try {
    base = new URL(apiBaseUrl)
  } catch {
    throw new TypeError('@opskit/security-log: telegramSink apiBaseUrl must be an absolute http(s) URL')
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError('@opskit/security-log: telegramSink apiBaseUrl must be an absolute http(s) URL')
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError('@opskit/security-log: telegramSink timeoutMs must be a positive integer')
  const endpoint = `${base.href.replace(/\/+$/, '')}/bot${botToken}/sendMessage`
  return {
    name: 'telegram',
    async send(alert: Alert): Promise<void> {
      const text = alert.text.length > TELEGRAM_MAX_TEXT ? `${alert.text.slice(0, TELEGRAM_MAX_TEXT - 1)}…` : alert.text
      let response: Response
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ chat_id: chatId, text, disable_web_page_preview: true }),
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (err) {
        // Never the URL: it holds the bot token.
        throw new Error(`telegram sendMessage failed: ${describeFetchError(err)}`)
      }
      const body = (await response.json().catch(() => null)) as { ok?: boolean; description?: string } | null
      if (!response.ok || body?.ok !== true) {
        const description = typeof body?.description === 'string' ? `: ${body.description.split(botToken).join('[REDACTED]').slice(0, 200)}` : ''
        throw new Error(`telegram sendMessage answered HTTP ${response.status}${description}`)
      }
    },
  }
}
