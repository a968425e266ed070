/** A fetch failure described without its URL: `timeout`, `ECONNREFUSED`... */
export function describeFetchError(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout'
  return e?.cause?.code ?? e?.cause?.name ?? e?.name ?? 'error'
}
