import { redact } from '@opskit/core'
import type { ErrorEvent } from '@sentry/node'

const DROPPED_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization', 'x-api-key'])

/**
 * The last step before an event leaves the process: no request body, no cookies, no credential
 * headers, no e-mail; then core's `redact()` over the whole event (secret keys, secret-looking
 * values in messages, stack frames' variables, breadcrumbs).
 */
export function scrubEvent(event: ErrorEvent): ErrorEvent {
  if (event.request !== undefined) {
    const { data: _data, cookies: _cookies, headers, ...request } = event.request
    const kept: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers ?? {})) if (!DROPPED_HEADERS.has(name.toLowerCase())) kept[name] = value
    event.request = { ...request, headers: kept }
  }
  if (event.user !== undefined) event.user = event.user.id === undefined ? {} : { id: event.user.id }
  return redact(event) as ErrorEvent
}
