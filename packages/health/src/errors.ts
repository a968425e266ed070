import createError from '@fastify/error'
import { createOptionError } from '@opskit/core'

/** An option, a check or a check factory's argument is invalid (at `register()`, `health.register()` or the factory call); the message names it. */
export const FST_OPSKIT_HEALTH_INVALID_OPTION = createOptionError('FST_OPSKIT_HEALTH_INVALID_OPTION', '@opskit/health')

/** @deprecated Renamed `FST_OPSKIT_HEALTH_INVALID_OPTION` (the same class: its errors carry the new code). */
export const FST_HEALTH_INVALID_OPTION = FST_OPSKIT_HEALTH_INVALID_OPTION

const CheckFailedBase = createError<[message: string]>('FST_OPSKIT_HEALTH_CHECK_FAILED', '%s', 503)

/**
 * How a check fails: the built-in checks reject with it (code `FST_OPSKIT_HEALTH_CHECK_FAILED`), and
 * a check of your own may throw it with `details` (an object) that stay in the failed service entry.
 */
export class CheckFailedError extends CheckFailedBase {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = 'CheckFailedError'
  }
}

/** A check did not settle within its `timeoutMs` (its `signal` is aborted with this error). */
export const FST_OPSKIT_HEALTH_CHECK_TIMEOUT = createError('FST_OPSKIT_HEALTH_CHECK_TIMEOUT', 'timeout', 503)
