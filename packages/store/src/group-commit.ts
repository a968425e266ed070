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

/**
 * Group commit: while one write is in flight new items queue; when it finishes the next write takes
 * up to `maxBatchSize` of them, so batches grow with load and an idle queue writes its first item on
 * the next `setImmediate`. A failed batch is retried (same items, same order) with exponential
 * backoff and jitter until it succeeds or `close()`'s deadline passes: nothing accepted is dropped
 * silently. `push()` resolves once the item's batch is committed.
 */
export class GroupCommitQueue<T> {
  readonly #write: (batch: T[]) => Promise<void>
  readonly #maxBatchSize: number
  readonly #maxQueueSize: number
  readonly #retryBaseMs: number
  readonly #retryMaxMs: number
  readonly #opts: GroupCommitOptions<T>

  #items: T[] = []
  #resolves: Array<(item: T) => void> = []
  #rejects: Array<(err: Error) => void> = []
  #inFlight: Array<(err: Error) => void> | null = null
  #depth = 0
  #accepted = 0
  #settled = 0
  #flushWaiters: Array<{ target: number; resolve: () => void }> = []
  #scheduled = false
  #running = false
  #closing = false
  #aborted: Error | null = null
  #retryTimer: NodeJS.Timeout | null = null
  #wakeRetry: (() => void) | null = null
  readonly #kick = (): void => {
    this.#scheduled = false
    void this.#run()
  }

  constructor(opts: GroupCommitOptions<T>) {
    if (typeof opts?.write !== 'function') throw new TypeError('GroupCommitQueue: write(batch) is required')
    this.#opts = opts
    this.#write = opts.write
    this.#maxBatchSize = positiveInt(opts.maxBatchSize, 500, 'maxBatchSize')
    this.#maxQueueSize = positiveInt(opts.maxQueueSize, 100_000, 'maxQueueSize')
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
    if (this.#opts.onDepthChange !== undefined) this.#opts.onDepthChange(this.#depth)
    if (!this.#running && !this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#kick)
    }
    return promise
  }

  /** Resolves when everything accepted so far is written (or given up on by `close()`). */
  flush(): Promise<void> {
    if (this.#settled >= this.#accepted) return Promise.resolve()
    return new Promise((resolve) => this.#flushWaiters.push({ target: this.#accepted, resolve }))
  }

  /**
   * Stops accepting, keeps writing (and retrying) until everything accepted is written or
   * `timeoutMs` (default 30 s) passes, then rejects what is still unwritten and logs how many.
   */
  async close(opts: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 30_000
    this.#closing = true
    if (this.#settled >= this.#accepted) return
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'timeout')
      timer.unref()
    })
    const result = await Promise.race([this.flush(), deadline])
    clearTimeout(timer)
    if (result !== 'timeout') return
    const unwritten = this.#depth
    this.#aborted = new QueueClosedError(
      `queue closed after ${timeoutMs} ms with ${unwritten} items unwritten`,
    )
    this.#opts.logger?.error(
      { unwritten, timeout_ms: timeoutMs },
      `${this.#opts.name ?? 'group-commit'}: closed with ${unwritten} accepted items NOT written (store unreachable until the close deadline)`,
    )
    // Items in flight may still commit (their outcome is unknown): they are rejected too, the write
    // carries client-side ids so a later retry of the same rows can never land twice.
    if (this.#inFlight !== null) {
      const rejects = this.#inFlight
      this.#inFlight = null
      this.#settle(rejects.length)
      for (const reject of rejects) reject(this.#aborted)
    }
    this.#rejectQueued(this.#aborted)
    this.#wakeRetry?.()
  }

  #rejectQueued(err: Error): void {
    const rejects = this.#rejects
    const count = rejects.length
    this.#items = []
    this.#resolves = []
    this.#rejects = []
    this.#settle(count)
    for (const reject of rejects) reject(err)
  }

  #settle(count: number): void {
    if (count === 0) return
    this.#depth -= count
    this.#settled += count
    if (this.#opts.onDepthChange !== undefined) this.#opts.onDepthChange(this.#depth)
    if (this.#flushWaiters.length === 0) return
    const still: Array<{ target: number; resolve: () => void }> = []
    for (const waiter of this.#flushWaiters) {
      if (this.#settled >= waiter.target) waiter.resolve()
      else still.push(waiter)
    }
    this.#flushWaiters = still
  }

  #take(): { batch: T[]; resolves: Array<(item: T) => void>; rejects: Array<(err: Error) => void> } {
    if (this.#items.length <= this.#maxBatchSize) {
      const taken = { batch: this.#items, resolves: this.#resolves, rejects: this.#rejects }
      this.#items = []
      this.#resolves = []
      this.#rejects = []
      return taken
    }
    const n = this.#maxBatchSize
    return { batch: this.#items.splice(0, n), resolves: this.#resolves.splice(0, n), rejects: this.#rejects.splice(0, n) }
  }

  async #run(): Promise<void> {
    if (this.#running) return
    this.#running = true
    try {
      while (this.#items.length > 0 && this.#aborted === null) {
        const { batch, resolves, rejects } = this.#take()
        this.#inFlight = rejects
        const attempts = await this.#writeWithRetry(batch)
        if (this.#inFlight !== rejects) continue // given up on by close(): already rejected
        this.#inFlight = null
        if (attempts < 0) {
          this.#settle(rejects.length)
          for (const reject of rejects) reject(this.#aborted ?? new QueueClosedError('queue closed'))
          continue
        }
        if (attempts > 0) this.#opts.onRecovered?.(attempts)
        this.#opts.onCommitted?.(batch)
        this.#settle(resolves.length)
        for (let i = 0; i < resolves.length; i++) resolves[i]!(batch[i]!)
      }
    } finally {
      this.#running = false
    }
  }

  /** Failed attempts before success, or -1 when close() gave up. */
  async #writeWithRetry(batch: T[]): Promise<number> {
    let attempt = 0
    for (;;) {
      try {
        await this.#write(batch)
        return attempt
      } catch (err) {
        attempt++
        const error = err instanceof Error ? err : new Error(String(err))
        try {
          this.#opts.onWriteFailure?.(error, batch.length, attempt)
        } catch {
          // a failing callback must not stop the retries
        }
        if (this.#aborted !== null) return -1
        await this.#sleep(this.#backoff(attempt))
        if (this.#aborted !== null) return -1
      }
    }
  }

  #backoff(attempt: number): number {
    const exp = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** Math.min(attempt - 1, 30))
    return Math.round(exp / 2 + Math.random() * (exp / 2))
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        if (this.#retryTimer !== null) clearTimeout(this.#retryTimer)
        this.#retryTimer = null
        this.#wakeRetry = null
        resolve()
      }
      this.#wakeRetry = wake
      // Deliberately NOT unref()'d: it only exists while accepted items are unwritten, and a process
      // must not exit quietly with them. close() clears it when its deadline passes.
      this.#retryTimer = setTimeout(wake, ms)
    })
  }
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`GroupCommitQueue: ${name} must be a positive integer`)
  return value
}
