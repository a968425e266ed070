import { createLogger, type CreateLoggerOptions } from '@opskit/logging'
import type { Logger } from 'pino'

export type LogLine = Record<string, unknown> & { level: string; message: string; logger: string; timestamp: string }

/** A logger writing into memory: `raw()` is every byte written, `lines()` the parsed JSON lines. */
export function captureLogger(opts: CreateLoggerOptions = {}): { logger: Logger; raw(): string; lines(): LogLine[] } {
  const chunks: string[] = []
  const logger = createLogger({ format: 'json', level: 'trace', ...opts, destination: { write: (line: string) => void chunks.push(line) } })
  return {
    logger,
    raw: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as LogLine),
  }
}

/** Keys of one raw JSON line, in order, duplicates included (JSON.parse would hide them). */
export function rawKeys(line: string): string[] {
  const keys: string[] = []
  let depth = 0
  let i = 0
  while (i < line.length) {
    const c = line[i]
    if (c === '"') {
      let j = i + 1
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1
      if (depth === 1 && line[j + 1] === ':') keys.push(JSON.parse(line.slice(i, j + 1)) as string)
      i = j + 1
      continue
    }
    if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
    i++
  }
  return keys
}
