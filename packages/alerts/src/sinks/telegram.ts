import { FST_OPSKIT_ALERTS_DELIVERY_FAILED, FST_OPSKIT_ALERTS_INVALID_OPTION } from '../errors.js'
import { alertText } from '../message.js'
import type { AlertSeverity, AlertSink, SinkMessage } from '../message.js'
import { describeFetchError } from './fetch-error.js'
import { httpUrl, positiveTimeout, severitiesOf } from './sink-options.js'

export interface TelegramSinkOptions {
  /** Only alerts of these severities go here (summaries always do), e.g. `['critical', 'error']`. Default all. */
  severities?: readonly AlertSeverity[]
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

function fail(option: string, problem: string): never {
  throw new FST_OPSKIT_ALERTS_INVALID_OPTION(`telegramSink.${option}`, problem)
}

/** Sends each alert's text through the Telegram Bot API `sendMessage`. */
export function telegramSink({ botToken, chatId, apiBaseUrl = 'https://api.telegram.org', timeoutMs = 5000, severities }: TelegramSinkOptions): AlertSink {
  if (typeof botToken !== 'string' || botToken.length === 0) fail('botToken', 'expected the bot token')
  if ((typeof chatId !== 'string' || chatId.length === 0) && typeof chatId !== 'number') fail('chatId', 'expected a chat id or @channelname')
  const base = httpUrl(apiBaseUrl, 'apiBaseUrl', fail)
  positiveTimeout(timeoutMs, 'timeoutMs', fail)
  const endpoint = `${base.href.replace(/\/+$/, '')}/bot${botToken}/sendMessage`
  return {
    name: 'telegram',
    ...severitiesOf(severities, fail),
    async send(message: SinkMessage): Promise<void> {
      const full = alertText(message)
      const text = full.length > TELEGRAM_MAX_TEXT ? `${full.slice(0, TELEGRAM_MAX_TEXT - 1)}…` : full
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
        throw new FST_OPSKIT_ALERTS_DELIVERY_FAILED(`telegram sendMessage failed: ${describeFetchError(err)}`)
      }
      const body = (await response.json().catch(() => null)) as { ok?: boolean; description?: string } | null
      if (!response.ok || body?.ok !== true) {
        const description = typeof body?.description === 'string' ? `: ${body.description.split(botToken).join('[REDACTED]').slice(0, 200)}` : ''
        throw new FST_OPSKIT_ALERTS_DELIVERY_FAILED(`telegram sendMessage answered HTTP ${response.status}${description}`)
      }
    },
  }
}
