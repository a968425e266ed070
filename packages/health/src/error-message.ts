import { redactString, REDACTED, sanitizeHeader } from '@opskit/core'

// scheme://user:password@host → scheme://user:[REDACTED]@host
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):([^@/\s]+)@/gi
// password=…, pwd=…, token=…, secret=… inside connection strings and query strings
const SECRET_PAIRS = /\b(password|passwd|pwd|token|secret|apikey|api_key|access_token)=([^\s&;,'"]+)/gi
const MAX_LENGTH = 300

/**
 * The message of a failed check, safe to show on a public endpoint: credentials in connection
 * strings and URLs redacted, e-mails and card numbers masked, control characters removed, bounded.
 */
export function safeErrorMessage(err: unknown): string {
  let message: string
  if (err instanceof AggregateError && err.message === '' && err.errors.length > 0) return safeErrorMessage(err.errors[0])
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    message = err.message || (typeof code === 'string' ? code : err.name)
  } else if (typeof err === 'string') {
    message = err
  } else {
    message = 'check failed'
  }
  const redacted = redactString(message.replace(URL_CREDENTIALS, `$1$2:${REDACTED}@`).replace(SECRET_PAIRS, `$1=${REDACTED}`))
  return sanitizeHeader(redacted, MAX_LENGTH) ?? 'check failed'
}
