import { EventEmitter } from 'node:events'
import { extname } from 'node:path'
import roll, { type RollStream } from 'pino-roll'
import type { LogDestination, ResolvedFileOptions } from './options.js'

// Streams still open when the process exits get their buffered lines written synchronously. Holds
// weak references only, so a logger that is dropped is not kept alive.
const openFiles = new Set<WeakRef<RollingFile>>()
let exitHookInstalled = false

// Lines are written in batches of 16 KiB, or at least once a second: a busy server makes one
// write per ~60 request lines instead of one per line. `flush()`, close, a FATAL line and exit
// write the rest. The batch is built here, not in SonicBoom: SonicBoom's write() measures the
// UTF-8 length of its whole pending buffer on every call, which flattens that string each time (a
// copy of up to 16 KiB per line); here a line costs one string append.
// Batches are written synchronously: a 16 KiB write into the page cache takes a few µs of the
// event loop, where an asynchronous fs.write (a libuv thread-pool round trip) costs 20-40 µs of
// CPU per write on this kind of machine, and takes a thread-pool slot from the application.
const BUFFER_CHARS = 16 * 1024
const FLUSH_INTERVAL_MS = 1000

function flushOpenFilesOnExit(): void {
  for (const ref of openFiles) ref.deref()?.flushSync()
}

/**
 * pino-roll rotates by `reopen(nextFile)`, which in sync mode throws when the next file cannot be
 * opened (EACCES, EMFILE, a directory in the way), from a `drain` listener: an uncaught exception
 * that would take the server down. Caught here: SonicBoom reports the error through the stream's
 * `error` event (reported once per failure) and keeps writing to the current file; the next
 * rotation tries again. The `ready` listener the failed reopen left behind (it would close the
 * current descriptor a second time at the next rotation) is removed.
 */
function keepWritingWhenRotationFails(stream: RollStream): void {
  const reopen = stream.reopen
  stream.reopen = function reopenOrKeepWriting(this: RollStream, file?: string): void {
    const before = this.listeners('ready')
    try {
      reopen.call(this, file)
    } catch {
      for (const listener of this.listeners('ready')) {
        if (!before.includes(listener)) this.removeListener('ready', listener as (...args: unknown[]) => void)
      }
    }
  }
}

/**
 * A rotating JSON log file in the main thread, over pino-roll (a SonicBoom that reopens a new
 * numbered file once the active one reaches `maxSize`, keeping `maxFiles`). pino-roll opens the
 * file asynchronously; lines written before it is ready are kept and written in order. Writes are
 * batched (16 KiB or 1 s) and written synchronously; `flush()`, `end()` and process exit write what is buffered.
 */
export class RollingFile extends EventEmitter implements LogDestination {
  private stream: RollStream | null = null
  // Lines not handed to the stream yet: the current batch, or everything before the file opened.
  private buffer = ''
  private closed = false
  private readonly timer: NodeJS.Timeout
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
      sync: true,
      // Each batch handed over is written at once, whole (up to 3 bytes per character).
      minLength: 1,
      maxWrite: 4 * BUFFER_CHARS,
    }).then(
      (stream) => {
        this.stream = stream
        stream.on('error', (err: Error) => this.fail(err))
        keepWritingWhenRotationFails(stream)
        this.handOver()
        if (this.closed) stream.end()
      },
      (err: Error) => {
        // The file cannot be opened: report it once and stop keeping lines for it.
        this.buffer = ''
        this.closed = true
        clearInterval(this.timer)
        openFiles.delete(this.ref)
        this.fail(err)
      },
    )
    // Holds only the weak reference, so the timer does not keep a dropped logger's file alive.
    const ref = this.ref
    this.timer = setInterval(function handOverBuffered(this: NodeJS.Timeout) {
      const file = ref.deref()
      if (file === undefined) clearInterval(this)
      else file.handOver()
    }, FLUSH_INTERVAL_MS)
    this.timer.unref()
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
    if (this.closed) return true
    this.buffer += line
    if (this.buffer.length >= BUFFER_CHARS && this.stream !== null) this.handOver()
    return true
  }

  /** Hands the buffered lines to the stream (which writes them as one chunk). */
  private handOver(): void {
    const stream = this.stream
    if (this.buffer === '' || stream === null) return
    const chunk = this.buffer
    this.buffer = ''
    stream.write(chunk)
  }

  /** Calls back once every line written so far is on disk (handed to the OS). */
  flush(cb?: (err?: Error | null) => void): void {
    this.ready.then(() => {
      const stream = this.stream
      if (stream === null || this.closed) {
        cb?.()
        return
      }
      this.handOver()
      stream.flush((err) => cb?.(err))
    }, cb)
  }

  flushSync(): void {
    const stream = this.stream
    if (stream === null || stream.fd < 0) return
    try {
      this.handOver()
      stream.flushSync()
    } catch {
      // closed or not writable any more
    }
  }

  end(): void {
    if (this.closed) return
    this.handOver()
    this.closed = true
    clearInterval(this.timer)
    openFiles.delete(this.ref)
    this.stream?.end()
  }
}
