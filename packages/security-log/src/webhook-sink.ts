import type { Alert, AlertSink } from './alert.js'

export interface WebhookSinkOptions {
  /** Extra request headers (e.g. an authorization header). Default none. */
  headers?: Record<string, string>
  /** Abort a delivery after this long. Default `5000` ms. */
  timeoutMs?: number
  /** Sink name in log lines. Default `webhook(<host>)`: the URL's path and query never appear. */
  name?: string
}

/**
 * POSTs each alert as JSON (`{ title, text, action, severity, event }`) to `url`; a non-2xx answer
 * or a network error rejects, so the alert is retried. `text` makes Slack-style incoming webhooks
 * show it as is.
 */
export function webhookSink(url: string | URL, { headers = {}, timeoutMs = 5000, name }: WebhookSinkOptions = {}): AlertSink {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    throw new TypeError('@opskit/security-log: webhookSink(url) needs an absolute http(s) URL')
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new TypeError('@opskit/security-log: webhookSink(url) needs an absolute http(s) URL')
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError('@opskit/security-log: webhookSink timeoutMs must be a positive integer')
  const href = target.href
  return {
    name: name ?? `webhook(${target.host})`,
    async send(alert: Alert): Promise<void> {
      let response: Response
      try {
        response = await fetch(href, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(alert),
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (err) {
        // Only the cause's code: some fetch errors quote the URL, which may carry a secret.
        throw new Error(`webhook delivery failed: ${describeFetchError(err)}`)
      }
      await response.arrayBuffer().catch(() => undefined)
      if (!response.ok) throw new Error(`webhook answered HTTP ${response.status}`)
    },
  }
}

/** A fetch failure described without its URL: `timeout`, `ECONNREFUSED`... */
export function describeFetchError(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout'
  return e?.cause?.code ?? e?.cause?.name ?? e?.name ?? 'error'
}
