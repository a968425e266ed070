import { Writable } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import { createLogger } from '@opskit/logging'

/** A captured log line, its level also as pino's number and its message also as `msg`. */
export type CapturedLine = Record<string, any> & { level: number; msg: string }

const LEVELS: Record<string, number> = { TRACE: 10, DEBUG: 20, INFO: 30, WARN: 40, ERROR: 50, FATAL: 60 }

/**
 * The real `@opskit/logging` root logger (JSON, debug), its lines captured: it stamps `request_id`
 * from the current async context on every line, so a background line written inside a request's
 * context would carry that request's id, which is what the fault tests check never happens.
 * Lines keep every field; `level` is pino's number (50 for ERROR) and `msg` the `message`, so a
 * test can match either way.
 */
export function contextLogger(): { lines: CapturedLine[]; logger: ReturnType<typeof createLogger> & FastifyBaseLogger } {
  const lines: CapturedLine[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const text of String(chunk).split('\n')) {
        if (text.trim() === '') continue
        const line = JSON.parse(text) as Record<string, any>
        lines.push({ ...line, level: LEVELS[String(line.level)] ?? Number(line.level), msg: String(line.message ?? '') })
      }
      cb()
    },
  })
  const logger = createLogger({ level: 'debug', format: 'json', destination: stream })
  // Fastify's logger type and pino's differ in details (`child()`'s signature); it is both at run time.
  return { lines, logger: logger as unknown as ReturnType<typeof createLogger> & FastifyBaseLogger }
}
