export { opskitSecurityLog, default } from './plugin.js'
export type {
  SecurityLogOptions,
  AutoCaptureOptions,
  AbuseOptions,
  AlertOptions,
  RoutesOptions,
  QueueOptions,
} from './options.js'
export {
  FST_OPSKIT_SECURITY_LOG_INVALID_OPTION,
  FST_SECURITY_LOG_INVALID_OPTION,
  FST_OPSKIT_SECURITY_LOG_INVALID_EVENT,
  FST_OPSKIT_SECURITY_LOG_REDIS_TIMEOUT,
  SecurityEventError,
} from './errors.js'
export type { SecurityLogApi } from './security-log.js'
export { KNOWN_ACTIONS, DEFAULT_SEVERITIES, SEVERITIES, defaultSeverity } from './actions.js'
export type { Severity, KnownAction } from './actions.js'
export type { SecurityEvent, SecurityEventOptions, SecurityEventContext, SecurityRecord } from './record.js'
export type { Alert, AlertSink } from './alert.js'
export { webhookSink } from './webhook-sink.js'
export type { WebhookSinkOptions } from './webhook-sink.js'
export { telegramSink } from './telegram-sink.js'
export type { TelegramSinkOptions } from './telegram-sink.js'
export type { AbuseKeyType, SuspiciousDetails } from './abuse-detector.js'
export { securityLogMigration } from './schema.js'
export { QueueFullError, QueueClosedError, NotCommittedError, RefusedError, SpoolLockedError } from '@opskit/store'
