import { CheckFailedError, FST_OPSKIT_HEALTH_INVALID_OPTION } from '../errors.js'
import type { HealthCheck } from '../types.js'

export interface HttpCheckOptions {
  /** Status code(s) that mean healthy. Default: any 2xx. */
  expectStatus?: number | number[]
  /** Request method. Default `'GET'`. */
  method?: string
  /** Request headers (e.g. an API key); never shown in results. */
  headers?: Record<string, string>
  /** Default `true`. */
  critical?: boolean
  /** Overrides the plugin's `timeoutMs`; the request is aborted when it passes. */
  timeoutMs?: number
}

/** Where a URL points, safe to show: no credentials, no query string. */
function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`
}

/** Calls a URL with `fetch` (aborted at the timeout) and checks the status code. */
export function httpCheck(url: string | URL, options: HttpCheckOptions = {}): HealthCheck {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION('httpCheck(url)', 'expected an absolute http(s) URL')
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION('httpCheck(url)', 'expected an absolute http(s) URL')
  }
  const { expectStatus, method = 'GET', headers, critical, timeoutMs } = options
  const expected = expectStatus === undefined ? undefined : Array.isArray(expectStatus) ? expectStatus : [expectStatus]
  if (expected !== undefined && (expected.length === 0 || !expected.every((s) => Number.isInteger(s) && s >= 100 && s <= 599))) {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION('httpCheck expectStatus', 'expected an HTTP status code or a list of them')
  }
  const shown = displayUrl(target)
  const href = target.href
  return {
    ...(critical === undefined ? {} : { critical }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    async check(signal) {
      let res: Response
      try {
        res = await fetch(href, { method, headers, signal, redirect: 'manual' })
      } catch (err) {
        if (signal.aborted) throw signal.reason
        const cause = (err as { cause?: { code?: string; message?: string } }).cause
        throw new CheckFailedError(`${method} ${shown} failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`)
      }
      await res.body?.cancel().catch(() => undefined)
      const ok = expected === undefined ? res.status >= 200 && res.status < 300 : expected.includes(res.status)
      if (!ok) throw new CheckFailedError(`${method} ${shown} answered ${res.status}`)
      return { status_code: res.status }
    },
  }
}
