import { FST_OPSKIT_ALERTS_DELIVERY_FAILED, FST_OPSKIT_ALERTS_INVALID_OPTION } from '../errors.js'
import type { AlertSeverity, AlertSink, SinkMessage } from '../message.js'
import { describeFetchError } from './fetch-error.js'
import { httpUrl, positiveTimeout, severitiesOf } from './sink-options.js'

export interface WebhookSinkOptions {
  /** Only alerts of these severities go here (summaries always do), e.g. `['critical', 'error']`. Default all. */
  severities?: readonly AlertSeverity[]
  /** Extra request headers (e.g. an authorization header). Default none. */
  headers?: Record<string, string>
  /** Abort a delivery after this long. Default `5000` ms. */
  timeoutMs?: number
  /** Sink name in log lines. Default `webhook(<host>)`: the URL's path and query never appear. */
  name?: string
}

function fail(option: string, problem: string): never {
  throw new FST_OPSKIT_ALERTS_INVALID_OPTION(`webhookSink.${option}`, problem)
}

/**
 * POSTs each message as JSON (an alert: `{ alert, severity, kind, service, instance, message, at,
 * details }`) to `url`; a non-2xx answer or a network error rejects, so it is retried.
 */
export function webhookSink(url: string | URL, { headers = {}, timeoutMs = 5000, name, severities }: WebhookSinkOptions = {}): AlertSink {
  const href = httpUrl(url, 'url', fail).href
  positiveTimeout(timeoutMs, 'timeoutMs', fail)
  return {
    name: name ?? `webhook(${new URL(href).host})`,
    ...severitiesOf(severities, fail),
    async send(message: SinkMessage): Promise<void> {
      let response: Response
      try {
        response = await fetch(href, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(message),
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (err) {
        // Only the cause's code: some fetch errors quote the URL, which may carry a secret.
        throw new FST_OPSKIT_ALERTS_DELIVERY_FAILED(`webhook delivery failed: ${describeFetchError(err)}`)
      }
      await response.arrayBuffer().catch(() => undefined)
      if (!response.ok) throw new FST_OPSKIT_ALERTS_DELIVERY_FAILED(`webhook answered HTTP ${response.status}`)
    },
  }
}
