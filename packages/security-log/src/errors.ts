import createError from '@fastify/error'
import { createOptionError } from '@opskit/core'

/** A bad plugin option at `register()`, or a non-boolean `config.securityLog` on a route; the message names the option. */
export const FST_OPSKIT_SECURITY_LOG_INVALID_OPTION = createOptionError('FST_OPSKIT_SECURITY_LOG_INVALID_OPTION', '@opskit/security-log')
/** @deprecated The same class under its first name; its `code` is now `FST_OPSKIT_SECURITY_LOG_INVALID_OPTION`. */
export const FST_SECURITY_LOG_INVALID_OPTION = FST_OPSKIT_SECURITY_LOG_INVALID_OPTION

/** `record()` / `request.securityEvent()` with a bad action, severity or details (the promise rejects). */
export const FST_OPSKIT_SECURITY_LOG_INVALID_EVENT = createError('FST_OPSKIT_SECURITY_LOG_INVALID_EVENT', '%s', 500, TypeError)
/** The same class under the name the first edition exported. */
export const SecurityEventError = FST_OPSKIT_SECURITY_LOG_INVALID_EVENT

/** Redis did not answer an abuse-counter call in `abuse.redisTimeoutMs` (that call counts in memory instead; logged). */
export const FST_OPSKIT_SECURITY_LOG_REDIS_TIMEOUT = createError('FST_OPSKIT_SECURITY_LOG_REDIS_TIMEOUT', 'Redis did not answer within %s ms')
