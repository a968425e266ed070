import { EventEmitter } from 'node:events'
import { extname } from 'node:path'
import roll, { type RollStream } from 'pino-roll'
import type { LogDestination, ResolvedFileOptions } from './options.js'

// Streams still open when the process exits get their buffered lines written synchronously. Holds
// weak references only, so a logger that is dropped is not kept alive.
const openFiles = new Set<WeakRef<RollingFile>>()
let exitHookInstalled = false

// Lines are written in batches of at least 4 KiB, or at least once a second: a busy server makes
// a few large writes instead of one per line. `flush()`, close, a FATAL line and exit write the rest.
const BUFFER_BYTES = 4096
const FLUSH_INTERVAL_MS = 1000

function flushOpenFilesOnExit(): void {
  for (const ref of openFiles) ref.deref()?.flushSync()
}

/**
 * A rotating JSON log file in the main thread, over pino-roll (a SonicBoom that reopens a new
 * numbered file once the active one reaches `maxSize`, keeping `maxFiles`). pino-roll opens the
 * file asynchronously; lines written before it is ready are kept and written in order. Writes are
 * batched (4 KiB or 1 s); `flush()`, `end()` and process exit write what is buffered.
 */
export class RollingFile extends EventEmitter implements LogDestination {
  private stream: RollStream | null = null
  private pending: string[] = []
  private closed = false
  private readonly ref = new WeakRef(this)
  readonly ready: Promise<void>

  constructor(options: ResolvedFileOptions) {
    super()
    const extension = extname(options.path)
    const base = extension === '' ? options.path : options.path.slice(0, -extension.length)
    this.ready = roll({
      file: base,
      ...(extension === '' ? {} : { extension }),
      size: `${options.maxSizeBytes}b`,
      // pino-roll prunes before the new file exists: `count` old files plus the active one remain.
      limit: { count: options.maxFiles - 1, removeOtherLogFiles: true },
      mkdir: true,
      sync: false,
      minLength: BUFFER_BYTES,
      periodicFlush: FLUSH_INTERVAL_MS,
    }).then(
      (stream) => {
        this.stream = stream
        stream.on('error', (err: Error) => this.fail(err))
        for (const line of this.pending) stream.write(line)
        this.pending = []
        if (this.closed) stream.end()
      },
      (err: Error) => {
        this.pending = []
        this.fail(err)
      },
    )
    openFiles.add(this.ref)
    if (!exitHookInstalled) {
      exitHookInstalled = true
      process.once('exit', flushOpenFilesOnExit)
    }
  }

  /** The file being written now (`logs/app.3.log`), once open. */
  get currentFile(): string | undefined {
    return this.stream?.file
  }

  private fail(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
    else process.stderr.write(`@opskit/logging: log file error: ${err.message}\n`)
  }

  write(line: string): boolean {
    if (this.stream !== null) return this.stream.write(line)
    if (!this.closed) this.pending.push(line)
    return true
  }

  /** Calls back once every line written so far is on disk (handed to the OS). */
  flush(cb?: (err?: Error | null) => void): void {
    this.ready.then(() => {
      const stream = this.stream
      if (stream === null || this.closed) cb?.()
      else stream.flush((err) => cb?.(err))
    }, cb)
  }

  flushSync(): void {
    const stream = this.stream
    if (stream === null || stream.fd < 0) return
    try {
      stream.flushSync()
    } catch {
      // closed or not writable any more
    }
  }

  end(): void {
    if (this.closed) return
    this.closed = true
    openFiles.delete(this.ref)
    this.stream?.end()
  }
}
