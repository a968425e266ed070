import { Writable } from 'node:stream'

export interface LogCapture {
  /** Give it to Fastify: `logger: { level, stream }`. */
  stream: Writable
  /** Every line so far, parsed. */
  lines(): Array<Record<string, any>>
  /** Everything written so far, as text (to assert a secret never appears). */
  text(): string
  /** Resolves with the first line (already written or to come) for which `match` is true. */
  line(match: (line: Record<string, any>) => boolean): Promise<Record<string, any>>
}

/**
 * The log lines of a Fastify instance, for the alert tests (alerts, security-log): what was
 * logged about each delivery, and an event to await one instead of polling.
 */
export function captureLogs(): LogCapture {
  const chunks: string[] = []
  const waiters: Array<{ match: (line: Record<string, any>) => boolean; resolve: (line: Record<string, any>) => void }> = []
  const parse = (text: string): Array<Record<string, any>> =>
    text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, any>)
  const stream = new Writable({
    write(chunk, _enc, cb) {
      const text = String(chunk)
      chunks.push(text)
      if (waiters.length > 0) {
        for (const line of parse(text)) {
          for (const w of [...waiters]) {
            if (w.match(line)) {
              waiters.splice(waiters.indexOf(w), 1)
              w.resolve(line)
            }
          }
        }
      }
      cb()
    },
  })
  const lines = (): Array<Record<string, any>> => parse(chunks.join(''))
  return {
    stream,
    text: () => chunks.join(''),
    lines,
    line: (match) => {
      const found = lines().find(match)
      return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ match, resolve }))
    },
  }
}
