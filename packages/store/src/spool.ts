import { closeSync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs'
import { mkdir, open, readdir, readFile, unlink, writeFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'

/** `spool: { dir }` of audit and security-log. */
export interface SpoolOptions {
  /** Directory of the spool files (created when missing). One process at a time per directory and name. */
  dir: string
}

/** A spool file: deleted once every entry written to it is settled (committed or refused). */
export interface SpoolSegment {
  readonly file: string
  /** Entries not yet settled. */
  pending: number
  /** No more entries are appended to it. */
  sealed: boolean
}

/** One line holding a group of entries. */
function groupLine(entries: unknown[]): string {
  return JSON.stringify({ group: entries }) + '\n'
}

/** A segment is sealed (and a new one started) past this size. */
const SEGMENT_BYTES = 4 * 1024 * 1024

/** The spool refuses a directory another live process holds. */
export class SpoolLockedError extends Error {
  readonly code = 'FST_OPSKIT_SPOOL_LOCKED'
  constructor(lock: string, pid: number) {
    super(`spool ${lock} is held by process ${pid}, which is running; give each process its own spool dir`)
    this.name = 'SpoolLockedError'
  }
}

/**
 * Spool locks this process holds (by path). Process-wide on purpose: two Fastify instances of one
 * process must not share a spool either, and a lock file naming this process's own pid is otherwise
 * a stale one (a container restarted as pid 1 again).
 */
const HELD: Set<string> = ((globalThis as { [key: symbol]: Set<string> | undefined })[Symbol.for('opskit.store.spool-locks')] ??= new Set())

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM'
  }
}

/**
 * A local write-ahead file of accepted events: appended in groups (one write and one `fdatasync`
 * per group, however many entries it holds), replayed at the next start, and deleted once what it
 * holds is settled. Each group is one line, `{"group":[entry, …]}` (one `JSON.stringify` for the
 * group: a call per entry cost twice as much); a line that is not a group is one entry (files of
 * earlier versions). A torn last line (a crash mid-write: that group was never reported on disk)
 * is skipped on replay.
 */
export class Spool {
  readonly dir: string
  readonly #name: string
  readonly #lock: string
  #current: { segment: SpoolSegment; handle: FileHandle; bytes: number } | null = null
  #sequence = 0
  #closed = false

  private constructor(dir: string, name: string) {
    this.dir = dir
    this.#name = name
    this.#lock = join(dir, `${name}.lock`)
  }

  /** Opens (creating `dir`) and takes the lock; throws `SpoolLockedError` when a live process has it. */
  static async open(options: SpoolOptions, name: string): Promise<Spool> {
    await mkdir(options.dir, { recursive: true })
    const spool = new Spool(options.dir, name)
    let holder: number | undefined
    try {
      holder = Number((await readFile(spool.#lock, 'utf8')).trim())
    } catch {
      holder = undefined
    }
    if (HELD.has(spool.#lock)) throw new SpoolLockedError(spool.#lock, process.pid)
    if (holder !== undefined && isAlive(holder)) throw new SpoolLockedError(spool.#lock, holder)
    HELD.add(spool.#lock)
    await writeFile(spool.#lock, String(process.pid))
    return spool
  }

  /** What earlier processes left: each file's entries, oldest first. */
  async leftovers(): Promise<Array<{ segment: SpoolSegment; entries: unknown[] }>> {
    const prefix = `${this.#name}-`
    const files = (await readdir(this.dir)).filter((f) => f.startsWith(prefix) && f.endsWith('.jsonl')).sort()
    const out: Array<{ segment: SpoolSegment; entries: unknown[] }> = []
    for (const name of files) {
      const file = join(this.dir, name)
      const entries: unknown[] = []
      for (const line of (await readFile(file, 'utf8')).split('\n')) {
        if (line.length === 0) continue
        try {
          const value: unknown = JSON.parse(line)
          const group = (value as { group?: unknown } | null)?.group
          if (Array.isArray(group) && typeof value === 'object' && !Array.isArray(value)) entries.push(...group)
          else entries.push(value)
        } catch {
          // a line torn by a crash mid-write: its entry never reached the disk whole
        }
      }
      const segment: SpoolSegment = { file, pending: entries.length, sealed: true }
      out.push({ segment, entries })
      if (entries.length === 0) await unlink(file).catch(() => undefined)
    }
    return out
  }

  /** Appends `entries` as one group and syncs it to disk; resolves with the segment holding them. */
  async append(entries: unknown[]): Promise<SpoolSegment> {
    const text = groupLine(entries)
    // Counted before any await: a settle() in between must not see the file empty and seal it.
    const current = this.#current ?? await this.#openSegment()
    current.segment.pending += entries.length
    const buffer = Buffer.from(text)
    await current.handle.write(buffer)
    await current.handle.datasync()
    current.bytes += buffer.length
    const { segment } = current
    if (current.bytes >= SEGMENT_BYTES) await this.#seal()
    return segment
  }

  /** As `append()`, synchronously (at close, for what must reach the disk before the process ends). */
  appendSync(entries: unknown[]): SpoolSegment | null {
    if (entries.length === 0) return null
    const file = this.#nextFile()
    const fd = openSync(file, 'a')
    try {
      writeSync(fd, groupLine(entries))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    return { file, pending: entries.length, sealed: true }
  }

  /** `count` entries of `segment` are settled; deletes the file when none is left and it is sealed. */
  settle(segment: SpoolSegment, count: number): void {
    segment.pending -= count
    if (segment.pending > 0) return
    if (segment.sealed) {
      void unlink(segment.file).catch(() => undefined)
    } else if (this.#current?.segment === segment) {
      // The active file holds nothing unsettled: emptied in place (no append is in flight, or
      // pending would count its entries), and the next group starts it again. Closing, deleting
      // and creating a file per group cost three more system calls and a directory update.
      const current = this.#current
      try {
        ftruncateSync(current.handle.fd, 0)
        current.bytes = 0
      } catch {
        void this.#seal()
      }
    }
  }

  /** Closes the active file; removes the lock when nothing unsettled is left in any file. */
  async close(unsettled: number): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const current = this.#current
    this.#current = null
    if (current !== null) {
      await current.handle.close().catch(() => undefined)
      current.segment.sealed = true
      if (current.segment.pending <= 0) await unlink(current.segment.file).catch(() => undefined)
    }
    if (unsettled === 0) await unlink(this.#lock).catch(() => undefined)
    HELD.delete(this.#lock)
  }

  // Names sort in creation order: replay keeps the order events were accepted in.
  #nextFile(): string {
    return join(this.dir, `${this.#name}-${String(Date.now()).padStart(15, '0')}-${process.pid}-${String(this.#sequence++).padStart(6, '0')}.jsonl`)
  }

  async #openSegment(): Promise<{ segment: SpoolSegment; handle: FileHandle; bytes: number }> {
    const file = this.#nextFile()
    const handle = await open(file, 'a')
    this.#current = { segment: { file, pending: 0, sealed: false }, handle, bytes: 0 }
    return this.#current
  }

  async #seal(): Promise<void> {
    const current = this.#current
    if (current === null) return
    this.#current = null
    current.segment.sealed = true
    await current.handle.close().catch(() => undefined)
    if (current.segment.pending <= 0) await unlink(current.segment.file).catch(() => undefined)
  }
}
