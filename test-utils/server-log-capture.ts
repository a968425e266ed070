import { Writable } from 'node:stream'

/** One pino line as Fastify's default logger writes it (numeric `level`, `msg`). */
export interface LogLine {
  level: number
  msg: string
  [key: string]: unknown
}

export const WARN = 40
export const ERROR = 50

/** A pino destination (`Fastify({ logger: { stream } })`) that keeps every line, parsed. */
export function logCapture(): { stream: Writable; lines: LogLine[] } {
  const lines: LogLine[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as LogLine)
      cb()
    },
  })
  return { stream, lines }
}

/**
 * A logger destination (`createLogger({ destination })`, `serverOptions(config, { destination })`)
 * that keeps everything written; `lines()` parses it, one JSON object per line.
 */
export function jsonLines(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk))
      callback()
    },
  })
  const lines = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  return { stream, lines }
}
