/** Reading a Prometheus text scrape (`GET /metrics`, `registry.metrics()`) in tests. */

/** Sample lines (no comments) of a scrape whose metric name starts with `name`. */
export function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(name) && !line.startsWith('#'))
}

/** The value of the one sample line that starts with `series` (name and labels as printed), or `undefined`. */
export function valueOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}
