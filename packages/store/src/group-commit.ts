import { AsyncResource } from 'node:async_hooks'
import { isDataError } from './data-error.js'
import { FST_OPSKIT_STORE_INVALID_OPTION } from './errors.js'
import type { Spool, SpoolSegment } from './spool.js'

/** Rejected by `push()` at once when `maxQueueSize` accepted-but-unwritten items are waiting. */
export class QueueFullError extends Error {
  readonly code = 'FST_OPSKIT_QUEUE_FULL'
  readonly statusCode = 503
  constructor(maxQueueSize: number) {
    super(`queue full: ${maxQueueSize} items are waiting to be written; the item was not accepted`)
    this.name = 'QueueFullError'
  }
}

/**
 * Rejects items pushed after `close()` (`accepted` false), or accepted items still unwritten when
 * `close()` gives up (`accepted` true).
 */
export class QueueClosedError extends Error {
  readonly code = 'FST_OPSKIT_QUEUE_CLOSED'
  readonly accepted: boolean
  constructor(message: string, options?: { cause?: unknown; accepted?: boolean }) {
    super(message, options)
    this.name = 'QueueClosedError'
    this.accepted = options?.accepted ?? false
  }
}

/**
 * Rejects a `push()` whose item is not committed `settleTimeoutMs` after it was accepted (the
 * database is unreachable or silent). The item is NOT dropped: it stays queued and is written once,
 * when the database answers (or given up on, and logged, at `close()`'s deadline).
 */
export class NotCommittedError extends Error {
  readonly code = 'FST_OPSKIT_NOT_COMMITTED'
  readonly statusCode = 503
  constructor(settleTimeoutMs: number, what = 'the item') {
    super(`not committed yet: the database did not confirm ${what} within ${settleTimeoutMs} ms; it stays queued and is written once the database answers`)
    this.name = 'NotCommittedError'
  }
}

/** One write attempt that did not settle within `writeTimeoutMs` (it is retried like any failure). */
export class WriteTimeoutError extends Error {
  readonly code = 'FST_OPSKIT_WRITE_TIMEOUT'
  constructor(writeTimeoutMs: number) {
    super(`write did not finish within ${writeTimeoutMs} ms (database unreachable or silent)`)
    this.name = 'WriteTimeoutError'
  }
}

interface MinimalLogger {
  error(obj: object, msg?: string): void
}

export interface GroupCommitOptions<T> {
  /** Writes one batch, e.g. one multi-row `INSERT ... VALUES (...),(...) ON CONFLICT (id) DO NOTHING`. */
  write(batch: T[]): Promise<void>
  /** Most items per write. Default `500`. */
  maxBatchSize?: number
  /** Most accepted-but-unwritten items; `push()` rejects `QueueFullError` beyond it. Default `100_000`. */
  maxQueueSize?: number
  /** Batches written at once (each needs its own connection). Default `1`. */
  maxConcurrentWrites?: number
  /** First retry delay in ms; doubles per attempt, with jitter. Default `100`. */
  retryBaseMs?: number
  /** Longest retry delay in ms. Default `5000`. */
  retryMaxMs?: number
  /**
   * One write attempt that has not settled after this many ms counts as failed and is retried (the
   * late attempt may still commit: rows need client-side ids and `ON CONFLICT DO NOTHING`). `0`: no
   * bound. Default `0`.
   */
  writeTimeoutMs?: number
  /**
   * A `push()` not committed this many ms after it was accepted rejects `NotCommittedError`; the
   * item stays queued and is still written. `0`: a push waits as long as it takes. Default `0`.
   */
  settleTimeoutMs?: number
  /**
   * Whether a failed write failed for its rows' content (never retried as is: the batch is split
   * until the bad item is alone, and that item alone is refused). Default: `isDataError` (SQLSTATE
   * classes 22, 23, 54, or an error tagged by `asDataError`).
   */
  isDataError?(error: Error): boolean
  /**
   * Called for each item the database refused for its content, once it is alone in its write. May
   * return (or resolve with) the error its `push()` rejects with, e.g. one that names the field.
   */
  onRefused?(item: T, error: Error): Error | void | Promise<Error | void>
  /** Called after every failed write that is retried (not for data errors). */
  onWriteFailure?(error: Error, batchSize: number, attempt: number): void
  /** Called whenever the number of accepted-but-unwritten items changes. */
  onDepthChange?(depth: number): void
  /** Called when a write succeeds after `afterAttempts` failed attempts. */
  onRecovered?(afterAttempts: number): void
  /** Called once per batch after it is committed, with its committed items. */
  onCommitted?(batch: T[]): void
  /** Called with every accepted item `close()` gave up on (their pushes reject `QueueClosedError`). */
  onAbandoned?(items: T[], error: QueueClosedError): void
  /**
   * A durable spool: every accepted item is appended to it (one write and fsync per group) while
   * its first write to the database goes ahead, and settled there once committed or refused, so a
   * process killed mid-outage loses nothing that reached either; `replay()` queues what a spool file left. Items
   * are stored as `toEntry(item)` (a JSON value). `close()` closes the spool.
   */
  spool?: { spool: Spool; toEntry(item: T): unknown }
  /** Told (ERROR) how many items `close()` had to give up on. */
  logger?: MinimalLogger
  /** Name used in that log line. Default `'group-commit'`. */
  name?: string
}

/** Items in acceptance order with their callers and acceptance times. */
interface Run<T> {
  items: T[]
  resolves: Array<(item: T) => void>
  rejects: Array<(err: Error) => void>
  times: number[]
  /** The first `expired` items' pushes were already rejected `NotCommittedError`. */
  expired: number
}

interface Batch<T> extends Run<T> {
  /** Sequence number of its first item (items are numbered in acceptance order). */
  start: number
  settled: boolean
}

const emptyRun = <T>(): Run<T> => ({ items: [], resolves: [], rejects: [], times: [], expired: 0 })

const noop = (): void => undefined

/** `#pump()` splits what is queued over free write slots only into batches of at least this many items. */
const MIN_SHARED_BATCH = 16

/**
 * Group commit: while a write is in flight new items queue; when it finishes the next write takes
 * up to `maxBatchSize` of them, so batches grow with load and an idle queue writes its first item on
 * the next `setImmediate`. With `maxConcurrentWrites` > 1, that many batches may be in flight at
 * once (each on its own connection). A batch that fails for a transient reason is retried (same
 * items, same order) with exponential backoff and jitter until it succeeds or `close()`'s deadline
 * passes; one that fails for its content is split in halves until the bad item is alone, so every
 * other item commits and only the bad one is refused. `push()` resolves once the item's batch is
 * committed. Writes, retries and timers run in the async context the queue was created in, never in
 * the context of the request whose push happened to start them.
 */
export class GroupCommitQueue<T> {
  readonly #write: (batch: T[]) => Promise<void>
  readonly #maxBatchSize: number
  readonly #maxQueueSize: number
  readonly #maxConcurrent: number
  readonly #retryBaseMs: number
  readonly #retryMaxMs: number
  readonly #writeTimeoutMs: number
  readonly #settleTimeoutMs: number
  readonly #isDataError: (error: Error) => boolean
  readonly #opts: GroupCommitOptions<T>
  readonly #scope: AsyncResource

  #queued: Run<T> = emptyRun()
  /** With a spool: items accepted and not yet appended to it (the next group). */
  #toSpool: T[] = []
  /** Items not yet on disk (the next group and the one being appended). */
  readonly #unspooled = new Set<T>()
  /** Items committed (or refused) before their group reached the disk: settled as soon as it does. */
  readonly #settledEarly = new Set<T>()
  readonly #segments = new Map<T, SpoolSegment>()
  #appendLoop: Promise<void> | null = null
  #spoolFailed = false
  /** Items accepted so far; the next accepted item gets this sequence number. */
  #accepted = 0
  /** Items taken out of the queue (into a batch, or rejected by close()). */
  #taken = 0
  #depth = 0
  readonly #inFlight = new Set<Batch<T>>()
  #flushWaiters: Array<{ target: number; resolve: () => void }> = []
  #scheduled = false
  #closing = false
  #aborted: QueueClosedError | null = null
  readonly #sleepers = new Set<() => void>()
  #sweeper: NodeJS.Timeout | undefined
  readonly #kick: () => void
  readonly #sweep: () => void

  constructor(opts: GroupCommitOptions<T>) {
    if (typeof opts?.write !== 'function') throw new FST_OPSKIT_STORE_INVALID_OPTION('write', 'write(batch) is required')
    this.#opts = opts
    this.#write = opts.write
    this.#maxBatchSize = positiveInt(opts.maxBatchSize, 500, 'maxBatchSize')
    this.#maxQueueSize = positiveInt(opts.maxQueueSize, 100_000, 'maxQueueSize')
    this.#maxConcurrent = positiveInt(opts.maxConcurrentWrites, 1, 'maxConcurrentWrites')
    this.#retryBaseMs = positiveInt(opts.retryBaseMs, 100, 'retryBaseMs')
    this.#retryMaxMs = positiveInt(opts.retryMaxMs, 5000, 'retryMaxMs')
    this.#writeTimeoutMs = nonNegativeInt(opts.writeTimeoutMs, 0, 'writeTimeoutMs')
    this.#settleTimeoutMs = nonNegativeInt(opts.settleTimeoutMs, 0, 'settleTimeoutMs')
    this.#isDataError = opts.isDataError ?? isDataError
    // The async context of whoever created the queue (a plugin at register(), not a request): the
    // pump and the sweep run in it, so a log line about a write never carries a request's id.
    this.#scope = new AsyncResource('opskit.group-commit')
    this.#kick = this.#scope.bind(() => {
      this.#scheduled = false
      if (this.#opts.spool !== undefined && this.#appendLoop === null && this.#toSpool.length > 0) this.#appendLoop = this.#appendGroups()
      this.#pump(true)
    })
    this.#sweep = this.#scope.bind(() => this.#expire())
  }

  /** Accepted-but-unwritten items (queued and in flight). */
  get depth(): number {
    return this.#depth
  }

  /**
   * Queues `item`. Resolves when its batch is committed; rejects `QueueFullError` at once when the
   * queue is full, `QueueClosedError` after `close()`, `NotCommittedError` after `settleTimeoutMs`
   * (the item stays queued), or the refusal of `onRefused` when the database refuses its content.
   */
  push(item: T): Promise<void> {
    return this.enqueue(item) as Promise<unknown> as Promise<void>
  }

  /** As `push()`, resolving with the item itself once it is committed (saves a `.then()` per item). */
  enqueue(item: T): Promise<T> {
    if (this.#closing) return Promise.reject(new QueueClosedError('queue closed: the item was not accepted'))
    if (this.#depth >= this.#maxQueueSize) return Promise.reject(new QueueFullError(this.#maxQueueSize))
    const queued = this.#queued
    if (this.#opts.spool !== undefined) {
      this.#toSpool.push(item)
      this.#unspooled.add(item)
    }
    const promise = new Promise<T>((resolve, reject) => {
      queued.resolves.push(resolve)
      queued.rejects.push(reject)
    })
    queued.items.push(item)
    if (this.#settleTimeoutMs > 0) {
      queued.times.push(Date.now())
      if (this.#sweeper === undefined) this.#startSweep()
    }
    this.#depth++
    this.#accepted++
    if (this.#opts.onDepthChange !== undefined) this.#depthChanged()
    if (!this.#scheduled && (this.#inFlight.size < this.#maxConcurrent || (this.#opts.spool !== undefined && this.#appendLoop === null))) {
      this.#scheduled = true
      setImmediate(this.#kick)
    }
    return promise
  }

  /**
   * Queues items a spool file left (an earlier process accepted them and did not see them
   * committed). Nobody awaits them; they are written like any other, and the file is deleted once
   * all of them are settled.
   */
  replay(items: T[], segment: SpoolSegment): void {
    if (this.#closing || items.length === 0) return
    const queued = this.#queued
    const now = Date.now()
    for (const item of items) {
      queued.items.push(item)
      queued.resolves.push(noop)
      queued.rejects.push(noop)
      if (this.#settleTimeoutMs > 0) queued.times.push(now)
      this.#segments.set(item, segment)
    }
    this.#depth += items.length
    this.#accepted += items.length
    if (this.#opts.onDepthChange !== undefined) this.#depthChanged()
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#kick)
    }
  }

  /** Resolves when everything accepted so far is written (or given up on by `close()`). */
  flush(): Promise<void> {
    const target = this.#accepted
    if (this.#doneUpTo() >= target) return Promise.resolve()
    return new Promise((resolve) => this.#flushWaiters.push({ target, resolve }))
  }

  /**
   * Stops accepting, keeps writing (and retrying) until everything accepted is written or
   * `timeoutMs` (default 30 s) passes, then rejects what is still unwritten and logs how many.
   * Returns by the deadline whatever the writes in flight do.
   */
  async close(opts: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 30_000
    this.#closing = true
    if (this.#depth === 0) {
      this.#stopSweep()
      await this.#appendLoop
      return this.#closeSpool()
    }
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'timeout')
      timer.unref()
    })
    const result = await Promise.race([this.flush(), deadline])
    clearTimeout(timer)
    this.#stopSweep()
    if (result !== 'timeout') {
      // Committed, but groups still on their way to the disk are settled when they get there.
      await this.#appendLoop
      return this.#closeSpool()
    }
    const unwritten = this.#depth
    const aborted = new QueueClosedError(`queue closed after ${timeoutMs} ms with ${unwritten} items unwritten`, { accepted: true })
    this.#aborted = aborted
    // Batches in flight may still commit (their outcome is unknown): they are rejected too; rows
    // carry client-side ids, so a later retry of the same rows can never land twice.
    const abandoned: T[] = []
    for (const batch of [...this.#inFlight]) {
      abandoned.push(...batch.items)
      this.#finish(batch, aborted)
    }
    // Not yet on disk: written now, synchronously, so the next start replays them too (an item of
    // the group being appended may land twice in the files; it is stored once, by its id).
    this.#spoolNow([...this.#unspooled])
    const spooled = this.#segments.size
    const spool = this.#opts.spool?.spool
    this.#opts.logger?.error(
      spool === undefined ? { unwritten, timeout_ms: timeoutMs } : { unwritten, timeout_ms: timeoutMs, spooled, spool_dir: spool.dir },
      `${this.#opts.name ?? 'group-commit'}: closed with ${unwritten} accepted items NOT written (store unreachable until the close deadline)` +
        (spool === undefined ? '' : `; ${spooled} of them are kept in the spool (${spool.dir}) and written at the next start`),
    )
    this.#toSpool = []
    this.#unspooled.clear()
    const queued: Batch<T> = { ...this.#queued, start: this.#taken, settled: false }
    this.#taken += queued.items.length
    this.#queued = emptyRun()
    abandoned.push(...queued.items)
    this.#finish(queued, aborted)
    for (const wake of [...this.#sleepers]) wake()
    try {
      this.#opts.onAbandoned?.(abandoned, aborted)
    } catch {
      // it only reports
    }
    await this.#closeSpool()
  }

  /** Items still in the spool (not settled) and where, for the close log line. */
  get spooled(): number {
    return this.#segments.size
  }

  async #closeSpool(): Promise<void> {
    await this.#opts.spool?.spool.close(this.#segments.size).catch(() => undefined)
  }

  #spoolNow(items: T[]): void {
    const spool = this.#opts.spool
    if (spool === undefined || items.length === 0 || this.#spoolFailed) return
    try {
      const kept = items.filter((item) => {
        try {
          spool.toEntry(item)
          return true
        } catch {
          return false
        }
      })
      const segment = spool.spool.appendSync(kept.map((item) => spool.toEntry(item)))
      if (segment !== null) for (const item of kept) this.#segments.set(item, segment)
    } catch {
      // nothing more can be done at close: the count is logged
    }
  }

  /**
   * Appends the items accepted so far as one group (one write, one fsync), while their writes to
   * the database go ahead: an item is safe once either holds it. Groups follow one another until
   * nothing is left to append.
   */
  async #appendGroups(): Promise<void> {
    const spool = this.#opts.spool!
    while (this.#toSpool.length > 0 && this.#aborted === null) {
      const group = this.#toSpool
      this.#toSpool = []
      // An item that cannot be made an entry (a value JSON cannot hold) is not kept on disk: its
      // write will refuse it for its content anyway.
      const entries: unknown[] = []
      const kept: T[] = []
      for (const item of group) {
        try {
          entries.push(spool.toEntry(item))
          kept.push(item)
        } catch {
          // not kept on disk
        }
      }
      let segment: SpoolSegment | null = null
      if (!this.#spoolFailed && entries.length > 0) {
        try {
          segment = await spool.spool.append(entries)
        } catch (err) {
          // A full or broken disk must not stop the events: they go on, undurable, and this is said once.
          this.#spoolFailed = true
          this.#opts.logger?.error(
            { err: { message: (err as Error).message, code: (err as { code?: string }).code } },
            `${this.#opts.name ?? 'group-commit'}: writing the spool failed; accepted items are no longer kept on disk until restart`,
          )
        }
      }
      if (this.#aborted !== null) break // close() gave up meanwhile: what is on disk stays for the next start
      let early = 0
      for (const item of group) {
        this.#unspooled.delete(item)
        if (this.#settledEarly.delete(item)) early++
        else if (segment !== null) this.#segments.set(item, segment)
      }
      if (segment !== null && early > 0) spool.spool.settle(segment, early)
    }
    this.#appendLoop = null
  }

  /** Committed or refused items are done with: their spool files can go. */
  #settleSpooled(items: T[]): void {
    if (this.#segments.size === 0 && this.#unspooled.size === 0) return
    let last: SpoolSegment | undefined
    let count = 0
    for (const item of items) {
      const segment = this.#segments.get(item)
      if (segment === undefined) {
        if (this.#unspooled.has(item)) this.#settledEarly.add(item)
        continue
      }
      this.#segments.delete(item)
      if (segment !== last) {
        if (last !== undefined) this.#opts.spool?.spool.settle(last, count)
        last = segment
        count = 0
      }
      count++
    }
    if (last !== undefined) this.#opts.spool?.spool.settle(last, count)
  }

  /** Every item with a sequence number below this is settled (written or rejected). */
  #doneUpTo(): number {
    let lowest = this.#taken
    for (const batch of this.#inFlight) if (batch.start < lowest) lowest = batch.start
    return lowest
  }

  /**
   * Starts writes while there are queued items and free write slots. With `share` (the pump after
   * pushes) and nothing in flight, what is queued is shared out over the slots (no part smaller
   * than `MIN_SHARED_BATCH`): callers that await their commit push in step, and one batch holding
   * all of them would leave the database idle while the next is built and the process idle while
   * it is written. Halves overlap instead, and stay apart: each commit's callers form the next
   * batch while the other is written. Never shared when a batch has just settled (its callers have
   * not pushed again yet) or while another is in flight, so batches do not keep shrinking.
   */
  #pump(share = false): void {
    while (this.#queued.items.length > 0 && this.#inFlight.size < this.#maxConcurrent && this.#aborted === null) {
      const queued = this.#queued.items.length
      const parts = !share || this.#inFlight.size > 0 ? 1 : Math.min(this.#maxConcurrent, Math.max(1, Math.floor(queued / MIN_SHARED_BATCH)))
      const batch = this.#take(Math.min(this.#maxBatchSize, Math.ceil(queued / parts)))
      this.#inFlight.add(batch)
      void this.#writeBatch(batch)
    }
  }

  /** The first `size` queued items as a batch (all of them when `size` covers the queue). */
  #take(size: number): Batch<T> {
    const start = this.#taken
    const queued = this.#queued
    let batch: Batch<T>
    if (queued.items.length <= size) {
      batch = { ...queued, start, settled: false }
      this.#queued = emptyRun()
    } else {
      const n = size
      const expired = Math.min(queued.expired, n)
      batch = {
        start,
        items: queued.items.splice(0, n),
        resolves: queued.resolves.splice(0, n),
        rejects: queued.rejects.splice(0, n),
        times: queued.times.splice(0, n),
        expired,
        settled: false,
      }
      queued.expired -= expired
    }
    this.#taken += batch.items.length
    return batch
  }

  async #writeBatch(batch: Batch<T>): Promise<void> {
    const refused = new Map<number, Error>()
    const written = await this.#writeRange(batch, 0, batch.items.length, refused)
    if (!batch.settled) {
      if (!written) {
        this.#finish(batch, this.#aborted ?? new QueueClosedError('queue closed', { accepted: true }))
      } else {
        // The batch IS committed (but for refused items): a throwing callback must not leave its
        // items pending (they would later be rejected, and logged as unwritten, by close()).
        try {
          this.#opts.onCommitted?.(refused.size === 0 ? batch.items : batch.items.filter((_, i) => !refused.has(i)))
        } catch {
          // ignored: the callbacks only log and count
        }
        this.#finish(batch, null, refused)
        this.#settleSpooled(batch.items)
      }
    }
    this.#pump()
  }

  /**
   * Writes `batch.items[lo, hi)`: retries a transient failure with backoff; on a data error writes
   * each half on its own, down to the single bad item, whose refusal goes into `refused`. Resolves
   * false when `close()` gave up first.
   */
  async #writeRange(batch: Batch<T>, lo: number, hi: number, refused: Map<number, Error>): Promise<boolean> {
    const items = lo === 0 && hi === batch.items.length ? batch.items : batch.items.slice(lo, hi)
    let attempt = 0
    for (;;) {
      try {
        await this.#attempt(items)
        if (attempt > 0) {
          try {
            this.#opts.onRecovered?.(attempt)
          } catch {
            // it only reports
          }
        }
        return true
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err))
        if (this.#aborted !== null || batch.settled) return false
        if (this.#isDataError(error)) {
          if (hi - lo === 1) {
            refused.set(lo, await this.#refusal(batch.items[lo]!, error))
            return true
          }
          const mid = lo + Math.ceil((hi - lo) / 2)
          return (await this.#writeRange(batch, lo, mid, refused)) && (await this.#writeRange(batch, mid, hi, refused))
        }
        attempt++
        try {
          this.#opts.onWriteFailure?.(error, items.length, attempt)
        } catch {
          // a failing callback must not stop the retries
        }
        await this.#sleep(this.#backoff(attempt))
        if (this.#aborted !== null || batch.settled) return false
      }
    }
  }

  /** One write, bounded by `writeTimeoutMs` (a late outcome is ignored; it can only be a duplicate). */
  #attempt(items: T[]): Promise<void> {
    let pending: Promise<void>
    try {
      pending = this.#write(items)
    } catch (err) {
      return Promise.reject(err)
    }
    const ms = this.#writeTimeoutMs
    if (ms === 0) return pending
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new WriteTimeoutError(ms)), ms)
      timer.unref()
      pending.then(() => {
        clearTimeout(timer)
        resolve()
      }, (err: unknown) => {
        clearTimeout(timer)
        reject(err)
      })
    })
  }

  async #refusal(item: T, error: Error): Promise<Error> {
    try {
      const described = await this.#opts.onRefused?.(item, error)
      return described instanceof Error ? described : error
    } catch {
      return error
    }
  }

  /** Settles a batch once: resolves its items (error null, but for `refused` ones) or rejects them. */
  #finish(batch: Batch<T>, error: Error | null, refused?: Map<number, Error>): void {
    if (batch.settled) return
    batch.settled = true
    this.#inFlight.delete(batch)
    const count = batch.items.length
    this.#depth -= count
    if (count > 0 && this.#opts.onDepthChange !== undefined) this.#depthChanged()
    if (error === null) {
      for (let i = 0; i < count; i++) {
        const refusal = refused?.get(i)
        if (refusal === undefined) batch.resolves[i]!(batch.items[i]!)
        else batch.rejects[i]!(refusal)
      }
    } else {
      for (const reject of batch.rejects) reject(error)
    }
    if (this.#depth === 0) this.#stopSweep()
    if (this.#flushWaiters.length === 0) return
    const done = this.#doneUpTo()
    const still: Array<{ target: number; resolve: () => void }> = []
    for (const waiter of this.#flushWaiters) {
      if (done >= waiter.target) waiter.resolve()
      else still.push(waiter)
    }
    this.#flushWaiters = still
  }

  #startSweep(): void {
    const period = Math.max(20, Math.min(1000, Math.floor(this.#settleTimeoutMs / 4)))
    // Created in the queue's own async context, and unref()'d: it only tells callers; the retry
    // timer is what keeps a process with unwritten items alive.
    this.#scope.runInAsyncScope(() => {
      this.#sweeper = setInterval(this.#sweep, period)
      this.#sweeper.unref()
    })
  }

  #stopSweep(): void {
    if (this.#sweeper === undefined) return
    clearInterval(this.#sweeper)
    this.#sweeper = undefined
  }

  /** Rejects `NotCommittedError` for every push older than `settleTimeoutMs` (the items stay). */
  #expire(): void {
    if (this.#depth === 0) return this.#stopSweep()
    const cutoff = Date.now() - this.#settleTimeoutMs
    let error: NotCommittedError | undefined
    const expireRun = (run: Run<T>): void => {
      while (run.expired < run.items.length && run.times[run.expired]! <= cutoff) {
        error ??= new NotCommittedError(this.#settleTimeoutMs)
        run.rejects[run.expired]!(error)
        run.expired++
      }
    }
    for (const batch of this.#inFlight) expireRun(batch)
    expireRun(this.#queued)
  }

  /** A throwing onDepthChange must neither refuse an accepted item nor leave a batch unsettled. */
  #depthChanged(): void {
    try {
      this.#opts.onDepthChange!(this.#depth)
    } catch {
      // ignored: it only reports
    }
  }

  #backoff(attempt: number): number {
    const exp = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** Math.min(attempt - 1, 30))
    return Math.round(exp / 2 + Math.random() * (exp / 2))
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // Deliberately NOT unref()'d: it only exists while accepted items are unwritten, and a process
      // must not exit quietly with them. close() clears it when its deadline passes.
      const timer = setTimeout(wake, ms)
      const sleepers = this.#sleepers
      function wake(): void {
        clearTimeout(timer)
        sleepers.delete(wake)
        resolve()
      }
      sleepers.add(wake)
    })
  }
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1) throw new FST_OPSKIT_STORE_INVALID_OPTION(name, 'expected a positive integer')
  return value
}

function nonNegativeInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 0) throw new FST_OPSKIT_STORE_INVALID_OPTION(name, 'expected an integer ≥ 0')
  return value
}
