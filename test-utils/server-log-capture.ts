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
