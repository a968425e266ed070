/** A fetch failure described without its URL: `timeout`, `ECONNREFUSED`... */
export function describeFetchError(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout'
  return e?.cause?.code ?? e?.cause?.name ?? e?.name ?? 'error'
}

export function positiveTimeout(value: unknown, option: string, fail: (option: string, problem: string) => never): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(option, 'expected a positive integer of milliseconds')
  return value
}

export function httpUrl(value: unknown, option: string, fail: (option: string, problem: string) => never): URL {
  let url: URL
  try {
    url = new URL(value as string)
  } catch {
    fail(option, 'expected an absolute http(s) URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(option, 'expected an absolute http(s) URL')
  return url
}
