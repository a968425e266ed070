import { EventEmitter } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { readdir, stat, unlink, utimes } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
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
// Rotated files older than `retentionDays` are looked for at open, at each rotation and hourly.
const RETENTION_CHECK_MS = 60 * 60 * 1000
const DAY_MS = 24 * 60 * 60 * 1000

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * Gzips `file` into `file.gz` (appended as a new gzip member if one is there already) and deletes it.
 * The `.gz` keeps the plain file's modification time: pruning keeps the newest files by the time
 * they were written, and a file compressed late (it was still open at the previous tidy) must not
 * pass for newer than the files rotated after it.
 */
async function gzipFile(file: string): Promise<void> {
  const written = await stat(file)
  await pipeline(createReadStream(file), createGzip(), createWriteStream(`${file}.gz`, { flags: 'a' }))
  await utimes(`${file}.gz`, written.atime, written.mtime)
  await unlink(file)
}

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
function keepWritingWhenRotationFails(stream: RollStream, rotated: (next: string) => void): void {
  const reopen = stream.reopen
  stream.reopen = function reopenOrKeepWriting(this: RollStream, file?: string): void {
    const before = this.listeners('ready')
    try {
      reopen.call(this, file)
      if (file !== undefined) rotated(file)
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
  private readonly options: ResolvedFileOptions
  // Matches this file's numbered files, rotated or active, gzipped or not: `app.3.log`, `app.2.log.gz`.
  private readonly numbered: RegExp
  // Compression, pruning and retention, one step at a time, off the write path.
  private housekeeping: Promise<void> = Promise.resolve()
  // The file written now, and the files this instance opened / rotated out: a file it opened is
  // compressed or deleted only once rotated out, so the one being written is never touched, even
  // when a rotation happens while the housekeeping runs.
  private activeName: string | undefined
  private readonly opened = new Set<string>()
  private readonly retired = new Set<string>()
  private nextRetentionCheck = 0
  readonly ready: Promise<void>

  constructor(options: ResolvedFileOptions) {
    super()
    this.options = options
    const extension = extname(options.path)
    const base = extension === '' ? options.path : options.path.slice(0, -extension.length)
    this.numbered = new RegExp(`^${escapeRegExp(basename(base))}\\.(\\d+)${escapeRegExp(extension)}(\\.gz)?$`)
    this.ready = roll({
      file: base,
      ...(extension === '' ? {} : { extension }),
      size: `${options.maxSizeBytes}b`,
      // No `limit`: pino-roll would prune by file number, and after a restart it numbers from 1
      // again (it finds no number in `app.7.log`), so it deleted the fresh files and even the active
      // one. Pruning is done here, newest first by modification time, never the active file.
      mkdir: true,
      sync: true,
      // Each batch handed over is written at once, whole (up to 3 bytes per character).
      minLength: 1,
      maxWrite: 4 * BUFFER_CHARS,
    }).then(
      (stream) => {
        this.stream = stream
        stream.on('error', (err: Error) => this.fail(err))
        this.activeName = basename(stream.file)
        this.opened.add(this.activeName)
        keepWritingWhenRotationFails(stream, (next) => this.rotated(next))
        this.tidy()
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
      else {
        file.handOver()
        if (file.options.retentionDays !== undefined && Date.now() >= file.nextRetentionCheck) file.tidy()
      }
    }, FLUSH_INTERVAL_MS)
    this.timer.unref()
    openFiles.add(this.ref)
    if (!exitHookInstalled) {
      exitHookInstalled = true
      process.once('exit', flushOpenFilesOnExit)
    }
  }

  /** Resolves once the compression and deletions started so far are done. */
  settled(): Promise<void> {
    return this.housekeeping
  }

  private rotated(next: string): void {
    const name = basename(next)
    if (name === this.activeName) return
    if (this.activeName !== undefined) this.retired.add(this.activeName)
    this.activeName = name
    this.opened.add(name)
    this.tidy()
  }

  /** True for a file housekeeping may compress or delete: never the active one, nor one this instance opened and still may write. */
  private mayTouch(name: string): boolean {
    return name !== this.activeName && (!this.opened.has(name) || this.retired.has(name))
  }

  /**
   * After a rotation, at open and on the hourly check: gzips rotated files left plain (with
   * `compress`), deletes the rotated files beyond `maxFiles` (newest kept, by modification time)
   * and, with `retentionDays`, those last written before the limit. Never the active file; a
   * failure is reported, never thrown.
   */
  private tidy(): void {
    if (this.options.retentionDays !== undefined) this.nextRetentionCheck = Date.now() + RETENTION_CHECK_MS
    this.housekeeping = this.housekeeping.then(() => this.tidyNow()).catch((err: Error) => this.fail(err))
  }

  private async tidyNow(): Promise<void> {
    const dir = dirname(this.options.path)
    const listFiles = async (): Promise<{ name: string; gz: boolean; mtimeMs: number; number: number }[]> => {
      const found: { name: string; gz: boolean; mtimeMs: number; number: number }[] = []
      for (const name of await readdir(dir)) {
        const match = this.numbered.exec(name)
        if (match === null || !this.mayTouch(name)) continue
        const info = await stat(join(dir, name)).catch(() => undefined)
        if (info === undefined || !info.isFile()) continue
        found.push({ name, gz: match[2] !== undefined, mtimeMs: info.mtimeMs, number: Number(match[1]) })
      }
      // Newest first: by time written, then by number.
      return found.sort((a, b) => b.mtimeMs - a.mtimeMs || b.number - a.number)
    }
    if (this.options.compress) {
      // The file just rotated out, and any a previous run left plain.
      for (const file of (await listFiles()).filter((found) => !found.gz)) {
        if (!this.mayTouch(file.name)) continue
        try {
          await gzipFile(join(dir, file.name))
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.fail(err as Error)
        }
      }
    }
    const rotated = await listFiles()
    const doomed: string[] = []
    const limit = this.options.retentionDays === undefined ? undefined : Date.now() - this.options.retentionDays * DAY_MS
    rotated.forEach((file, index) => {
      // `maxFiles` counts the active file.
      if (index >= this.options.maxFiles - 1 || (limit !== undefined && file.mtimeMs < limit)) doomed.push(file.name)
    })
    await Promise.all(doomed.filter((name) => this.mayTouch(name)).map((name) => unlink(join(dir, name)).catch(() => undefined)))
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
