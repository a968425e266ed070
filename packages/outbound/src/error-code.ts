const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])
const ABORT_CODES = new Set(['ABORT_ERR', 'UND_ERR_ABORTED'])
const CODE = /^[A-Z][A-Z0-9_]{1,39}$/

interface ErrorLike {
  name?: unknown
  code?: unknown
  cause?: unknown
}

function isTimeout(err: ErrorLike): boolean {
  return err.name === 'TimeoutError' || (typeof err.code === 'string' && TIMEOUT_CODES.has(err.code))
}

/**
 * A short code for a failed call: `timeout` (AbortSignal.timeout, undici and socket timeouts),
 * `aborted` (any other abort), the system or undici code (`ECONNREFUSED`, `ECONNRESET`,
 * `ENOTFOUND`, `UND_ERR_SOCKET`, …), else `error`. Never the message (it may hold a URL).
 */
export function errorCode(error: unknown): string {
  if (error === null || typeof error !== 'object') return 'error'
  const err = error as ErrorLike
  const cause = err.cause !== null && typeof err.cause === 'object' ? (err.cause as ErrorLike) : undefined
  if (isTimeout(err) || (cause !== undefined && isTimeout(cause))) return 'timeout'
  if (err.name === 'AbortError' || (typeof err.code === 'string' && ABORT_CODES.has(err.code))) return 'aborted'
  if (typeof err.code === 'string' && CODE.test(err.code)) return err.code
  if (cause !== undefined && typeof cause.code === 'string' && CODE.test(cause.code)) return cause.code
  return 'error'
}
