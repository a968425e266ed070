import { pino } from 'pino'
import pretty from 'pino-pretty'
import type { LogDestination, ResolvedLoggerOptions } from './options.js'
import { RollingFile } from './rolling-file.js'
import { TeeStream } from './tee-stream.js'

/**
 * Bytes of log lines the asynchronous stdout writer may hold while stdout is slower than the app
 * (a burst, a slow pipe). Past it lines are dropped and counted; see `BoundedStdout`.
 */
export const STDOUT_BUFFER_LIMIT = 8 * 1024 * 1024

type SonicBoom = ReturnType<typeof pino.destination> & { _len: number }

export interface BoundedStdoutOptions {
  /** File descriptor or path. Default `1` (stdout). */
  dest?: number | string
  /** Default `STDOUT_BUFFER_LIMIT`. */
  limit?: number
  /** The `logger` field of the marker line. */
  name?: string
}

/**
 * stdout through pino's asynchronous SonicBoom, with its buffer bounded: a line that would take
 * the buffer past `limit` bytes is dropped and counted, and once the buffer has drained a WARN
 * line `{"message":"N log lines dropped","dropped_lines":N}` says how many were lost. A 50k-line
 * burst holds at most `limit` bytes (it held all 25 MB before), and never blocks the event loop.
 */
export class BoundedStdout implements LogDestination {
  readonly #sonic: SonicBoom
  readonly #nameJson: string
  readonly limit: number
  #dropped = 0
  #writingMarker = 0

  constructor({ dest = 1, limit = STDOUT_BUFFER_LIMIT, name = 'app' }: BoundedStdoutOptions = {}) {
    this.limit = limit
    this.#nameJson = JSON.stringify(name)
    this.#sonic = pino.destination({ dest, sync: false, maxLength: limit }) as SonicBoom
    this.#sonic.on('drop', () => {
      // A marker that did not fit either: its count is kept for the next one.
      if (this.#writingMarker !== 0) this.#dropped += this.#writingMarker
      else this.#dropped++
    })
    this.#sonic.on('drain', () => {
      if (this.#dropped !== 0) this.#writeMarker()
    })
  }

  /** Bytes waiting to be written (never more than `limit`). */
  get bufferedBytes(): number {
    return this.#sonic._len
  }

  /** Lines dropped since the last marker line. */
  get droppedLines(): number {
    return this.#dropped
  }

  #writeMarker(): void {
    const count = this.#dropped
    this.#dropped = 0
    this.#writingMarker = count
    this.#sonic.write(
      `{"timestamp":"${new Date().toISOString()}","level":"WARN","logger":${this.#nameJson},"message":"${count} log lines dropped","dropped_lines":${count}}\n`,
    )
    this.#writingMarker = 0
  }

  write(line: string): boolean {
    return this.#sonic.write(line)
  }

  /** SonicBoom's flush (it calls back at once: stdout is never awaited, so a stuck pipe cannot hang `close()`). */
  flush(cb?: (err?: Error | null) => void): void {
    this.#sonic.flush(cb)
  }

  /** Resolves once the buffer is empty and the marker of any dropped lines is written (tests, tools). */
  whenDrained(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.#sonic._len === 0 && this.#dropped === 0 && !(this.#sonic as unknown as { _writing: boolean })._writing) resolve()
        else this.#sonic.once('drain', () => setImmediate(check))
      }
      check()
    })
  }

  flushSync(): void {
    if (this.#dropped !== 0 && this.#sonic._len === 0) this.#writeMarker()
    this.#sonic.flushSync()
  }

  end(): void {
    this.#sonic.end()
  }
}

function prettyStream(destination: LogDestination | undefined): LogDestination {
  return pretty({
    destination: (destination ?? 1) as number,
    sync: destination === undefined,
    colorize: destination === undefined && process.stdout.isTTY === true,
    messageKey: 'message',
    timestampKey: 'timestamp',
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'logger',
    messageFormat: '[{logger}] {message}',
    singleLine: false,
  }) as unknown as LogDestination
}

/** stdout (JSON or pretty) or the given `destination`, plus the rotating file when configured. */
export function buildDestination(options: ResolvedLoggerOptions): LogDestination {
  const outputs: LogDestination[] = []
  if (options.stdout) {
    if (options.format === 'pretty') outputs.push(prettyStream(options.destination))
    else outputs.push(options.destination ?? new BoundedStdout({ name: options.name }))
  }
  if (options.file !== undefined) outputs.push(new RollingFile(options.file))
  return outputs.length === 1 ? (outputs[0] as LogDestination) : new TeeStream(outputs)
}
