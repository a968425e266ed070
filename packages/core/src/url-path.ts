/** The path of a request URL: everything before the first `?` (the query string never reaches a log line, a metric or a row). */
export function pathOf(url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}
