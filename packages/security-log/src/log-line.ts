import { maskEmail, redact } from '@opskit/core'
import type { FastifyBaseLogger } from 'fastify'
import type { SecurityRecord } from './record.js'

/**
 * Writes the structured log line of a security event: INFO for `info`, WARN for `warning`, ERROR
 * for `critical`; message `Security event <action>`; fields `event_id`, `action`, `severity`,
 * `user_id`, `email` (masked), `ip`, `path`, `details` (redacted, e-mails masked).
 */
export function logSecurityEvent(logger: FastifyBaseLogger, record: SecurityRecord): void {
  const fields = {
    event_id: record.id,
    action: record.action,
    severity: record.severity,
    user_id: record.user_id,
    email: record.user_email === null ? null : maskEmail(record.user_email),
    ip: record.ip_address,
    path: record.request_path,
    details: record.details === null ? null : redact(record.details),
  }
  const message = `Security event ${record.action}`
  if (record.severity === 'critical') logger.error(fields, message)
  else if (record.severity === 'warning') logger.warn(fields, message)
  else logger.info(fields, message)
}
