import { EventEmitter } from 'node:events'
import { extname } from 'node:path'
import roll, { type RollStream } from 'pino-roll'
import type { LogDestination, ResolvedFileOptions } from './options.js'

// Streams still open when the process exits get their buffered lines written synchronously. Holds
// weak references only, so a logger that is dropped is not kept alive.
const openFiles = new Set<WeakRef<RollingFile>>()
let exitHookInstalled = false

function flushOpenFilesOnExit(): void {
  for (const ref of openFiles) ref.deref()?.flushSync()
}

/**
 * A rotating JSON log file in the main thread, over pino-roll (a SonicBoom that reopens a new
 * numbered file once the active one reaches `maxSize`, keeping `maxFiles`). pino-roll opens the
 * file asynchronously; lines written before it is ready are kept and written in order.
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
      limit: { count: options.maxFiles, removeOtherLogFiles: true },
      mkdir: true,
      sync: false,
      minLength: 0,
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
      if (stream === null || (!stream._writing && stream._len === 0)) {
        cb?.()
        return
      }
      stream.once('drain', () => cb?.())
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
