// One implementation: the sink of @opskit/alerts. It sends an alert's `text` (security-log's
// alerts bring their own) through the Telegram Bot API `sendMessage`.
export { telegramSink } from '@opskit/alerts'
export type { TelegramSinkOptions } from '@opskit/alerts'
