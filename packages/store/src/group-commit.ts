/** Rejected by `push()` at once when `maxQueueSize` accepted-but-unwritten items are waiting. */
export class QueueFullError extends Error {
  readonly code = 'FST_OPSKIT_QUEUE_FULL'
  readonly statusCode = 503
  constructor(maxQueueSize: number) {
    super(`queue full: ${maxQueueSize} items are waiting to be written; the item was not accepted`)
    this.name = 'QueueFullError'
  }
}

/** Rejects items still unwritten when `close()` gives up, or pushed after `close()`. */
export class QueueClosedError extends Error {
  readonly code = 'FST_OPSKIT_QUEUE_CLOSED'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'QueueClosedError'
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
  /** Called after every failed write (the batch is retried until `close()`'s deadline). */
  onWriteFailure?(error: Error, batchSize: number, attempt: number): void
  /** Called whenever the number of accepted-but-unwritten items changes. */
  onDepthChange?(depth: number): void
  /** Called when a batch is written after `afterAttempts` failed attempts. */
  onRecovered?(afterAttempts: number): void
  /** Called once per batch after it is committed. */
  onCommitted?(batch: T[]): void
  /** Told (ERROR) how many items `close()` had to give up on. */
  logger?: MinimalLogger
  /** Name used in that log line. Default `'group-commit'`. */
  name?: string
}

interface Batch<T> {
  /** Sequence number of its first item (items are numbered in acceptance order). */
  start: number
  items: T[]
  resolves: Array<(item: T) => void>
  rejects: Array<(err: Error) => void>
  settled: boolean
}

/**
 * Group commit: while a write is in flight new items queue; when it finishes the next write takes
 * up to `maxBatchSize` of them, so batches grow with load and an idle queue writes its first item on
 * the next `setImmediate`. With `maxConcurrentWrites` > 1, that many batches may be in flight at
 * once (each on its own connection). A failed batch is retried (same items, same order) with
 * exponential backoff and jitter until it succeeds or `close()`'s deadline passes: nothing accepted
 * is dropped silently. `push()` resolves once the item's batch is committed.
 */
export class GroupCommitQueue<T> {
  readonly #write: (batch: T[]) => Promise<void>
  readonly #maxBatchSize: number
  readonly #maxQueueSize: number
  readonly #maxConcurrent: number
  readonly #retryBaseMs: number
  readonly #retryMaxMs: number
  readonly #opts: GroupCommitOptions<T>

  #items: T[] = []
  #resolves: Array<(item: T) => void> = []
  #rejects: Array<(err: Error) => void> = []
  /** Items accepted so far; the next accepted item gets this sequence number. */
  #accepted = 0
  /** Items taken out of the queue (into a batch, or rejected by close()). */
  #taken = 0
  #depth = 0
  readonly #inFlight = new Set<Batch<T>>()
  #flushWaiters: Array<{ target: number; resolve: () => void }> = []
  #scheduled = false
  #closing = false
  #aborted: Error | null = null
  readonly #sleepers = new Set<() => void>()
  readonly #kick = (): void => {
    this.#scheduled = false
    this.#pump()
  }

  constructor(opts: GroupCommitOptions<T>) {
    if (typeof opts?.write !== 'function') throw new TypeError('GroupCommitQueue: write(batch) is required')
    this.#opts = opts
    this.#write = opts.write
    this.#maxBatchSize = positiveInt(opts.maxBatchSize, 500, 'maxBatchSize')
    this.#maxQueueSize = positiveInt(opts.maxQueueSize, 100_000, 'maxQueueSize')
    this.#maxConcurrent = positiveInt(opts.maxConcurrentWrites, 1, 'maxConcurrentWrites')
    this.#retryBaseMs = positiveInt(opts.retryBaseMs, 100, 'retryBaseMs')
    this.#retryMaxMs = positiveInt(opts.retryMaxMs, 5000, 'retryMaxMs')
  }

  /** Accepted-but-unwritten items (queued and in flight). */
  get depth(): number {
    return this.#depth
  }

  /**
   * Queues `item`. Resolves when its batch is committed; rejects `QueueFullError` at once when the
   * queue is full, or `QueueClosedError` after `close()`.
   */
  push(item: T): Promise<void> {
    return this.enqueue(item) as Promise<unknown> as Promise<void>
  }

  /** As `push()`, resolving with the item itself once it is committed (saves a `.then()` per item). */
  enqueue(item: T): Promise<T> {
    if (this.#closing) return Promise.reject(new QueueClosedError('queue closed: the item was not accepted'))
    if (this.#depth >= this.#maxQueueSize) return Promise.reject(new QueueFullError(this.#maxQueueSize))
    const promise = new Promise<T>((resolve, reject) => {
      this.#resolves.push(resolve)
      this.#rejects.push(reject)
    })
    this.#items.push(item)
    this.#depth++
    this.#accepted++
    if (this.#opts.onDepthChange !== undefined) this.#depthChanged()
    if (!this.#scheduled && this.#inFlight.size < this.#maxConcurrent) {
      this.#scheduled = true
      setImmediate(this.#kick)
    }
    return promise
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
   */
  async close(opts: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 30_000
    this.#closing = true
    if (this.#depth === 0) return
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'timeout')
      timer.unref()
    })
    const result = await Promise.race([this.flush(), deadline])
    clearTimeout(timer)
    if (result !== 'timeout') return
    const unwritten = this.#depth
    const aborted = new QueueClosedError(`queue closed after ${timeoutMs} ms with ${unwritten} items unwritten`)
    this.#aborted = aborted
    this.#opts.logger?.error(
      { unwritten, timeout_ms: timeoutMs },
      `${this.#opts.name ?? 'group-commit'}: closed with ${unwritten} accepted items NOT written (store unreachable until the close deadline)`,
    )
    // Batches in flight may still commit (their outcome is unknown): they are rejected too; rows
    // carry client-side ids, so a later retry of the same rows can never land twice.
    for (const batch of [...this.#inFlight]) this.#finish(batch, aborted)
    const queued: Batch<T> = { start: this.#taken, items: this.#items, resolves: this.#resolves, rejects: this.#rejects, settled: false }
    this.#taken += queued.items.length
    this.#items = []
    this.#resolves = []
    this.#rejects = []
    this.#finish(queued, aborted)
    for (const wake of [...this.#sleepers]) wake()
  }

  /** Every item with a sequence number below this is settled (written or rejected). */
  #doneUpTo(): number {
    let lowest = this.#taken
    for (const batch of this.#inFlight) if (batch.start < lowest) lowest = batch.start
    return lowest
  }

  /** Starts writes while there are queued items and free write slots. */
  #pump(): void {
    while (this.#items.length > 0 && this.#inFlight.size < this.#maxConcurrent && this.#aborted === null) {
      const batch = this.#take()
      this.#inFlight.add(batch)
      void this.#writeBatch(batch)
    }
  }

  #take(): Batch<T> {
    const start = this.#taken
    let batch: Batch<T>
    if (this.#items.length <= this.#maxBatchSize) {
      batch = { start, items: this.#items, resolves: this.#resolves, rejects: this.#rejects, settled: false }
      this.#items = []
      this.#resolves = []
      this.#rejects = []
    } else {
      const n = this.#maxBatchSize
      batch = { start, items: this.#items.splice(0, n), resolves: this.#resolves.splice(0, n), rejects: this.#rejects.splice(0, n), settled: false }
    }
    this.#taken += batch.items.length
    return batch
  }

  async #writeBatch(batch: Batch<T>): Promise<void> {
    let attempt = 0
    for (;;) {
      try {
        await this.#write(batch.items)
        break
      } catch (err) {
        attempt++
        const error = err instanceof Error ? err : new Error(String(err))
        try {
          this.#opts.onWriteFailure?.(error, batch.items.length, attempt)
        } catch {
          // a failing callback must not stop the retries
        }
        if (this.#aborted !== null || batch.settled) break
        await this.#sleep(this.#backoff(attempt))
        if (this.#aborted !== null || batch.settled) break
      }
    }
    if (!batch.settled) {
      if (this.#aborted !== null) {
        this.#finish(batch, this.#aborted)
      } else {
        // The batch IS committed: a throwing callback must not leave its items pending (they would
        // later be rejected, and logged as unwritten, by close()).
        try {
          if (attempt > 0) this.#opts.onRecovered?.(attempt)
          this.#opts.onCommitted?.(batch.items)
        } catch {
          // ignored: the callbacks only log and count
        }
        this.#finish(batch, null)
      }
    }
    this.#pump()
  }

  /** Settles a batch once: resolves its items (error null) or rejects them. */
  #finish(batch: Batch<T>, error: Error | null): void {
    if (batch.settled) return
    batch.settled = true
    this.#inFlight.delete(batch)
    const count = batch.items.length
    this.#depth -= count
    if (count > 0 && this.#opts.onDepthChange !== undefined) this.#depthChanged()
    if (error === null) {
      for (let i = 0; i < count; i++) batch.resolves[i]!(batch.items[i]!)
    } else {
      for (const reject of batch.rejects) reject(error)
    }
    if (this.#flushWaiters.length === 0) return
    const done = this.#doneUpTo()
    const still: Array<{ target: number; resolve: () => void }> = []
    for (const waiter of this.#flushWaiters) {
      if (done >= waiter.target) waiter.resolve()
      else still.push(waiter)
    }
    this.#flushWaiters = still
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
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`GroupCommitQueue: ${name} must be a positive integer`)
  return value
}
