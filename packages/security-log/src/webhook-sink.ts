// One implementation: the sink of @opskit/alerts. It POSTs the alert as JSON; for security-log
// that body is `{ title, text, action, severity, event }`.
export { webhookSink } from '@opskit/alerts'
export type { WebhookSinkOptions } from '@opskit/alerts'
