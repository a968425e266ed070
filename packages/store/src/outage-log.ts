interface OutageLogger {
  error(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}

export interface OutageLogOptions {
  logger: OutageLogger
  /** Logged when writes fail (ERROR): the first failure of an outage, then at most one per `intervalMs`. */
  failedMessage: string
  /** Logged when a write succeeds after failures (WARN). */
  recoveredMessage: string
  /** Masks secrets a database message can echo from a row (e.g. `@opskit/core`'s `redactString`). Default: as is. */
  redact?: (text: string) => string
  /** Extra fields on every line, e.g. `{ table }`. */
  fields?: Record<string, unknown>
  /** Default `30000`. */
  intervalMs?: number
}

/**
 * The throttled log of a write outage shared by audit and security-log: one ERROR when it starts
 * (with the database's error, masked), then at most one every `intervalMs` while it lasts, and one
 * WARN with its length when writes recover.
 */
export class OutageLog {
  readonly #opts: OutageLogOptions
  readonly #intervalMs: number
  #since = 0
  #lastLog = 0

  constructor(opts: OutageLogOptions) {
    this.#opts = opts
    this.#intervalMs = opts.intervalMs ?? 30_000
  }

  /** True while writes fail. */
  get failing(): boolean {
    return this.#since !== 0
  }

  /** One failed attempt; `fields` such as `batch_size`, `attempt`, `queue_depth`. */
  failed(error: Error, fields: Record<string, unknown>): void {
    const now = Date.now()
    if (this.#since === 0) this.#since = now
    else if (now - this.#lastLog < this.#intervalMs) return
    this.#lastLog = now
    const redact = this.#opts.redact ?? ((text: string) => text)
    this.#opts.logger.error(
      {
        err: { message: redact(error.message), code: (error as { code?: string }).code },
        ...this.#opts.fields,
        ...fields,
        outage_ms: now - this.#since,
      },
      this.#opts.failedMessage,
    )
  }

  /** A write succeeded after `attempts` failed ones. */
  recovered(attempts: number, fields: Record<string, unknown> = {}): void {
    const outageMs = this.#since === 0 ? 0 : Date.now() - this.#since
    this.#since = 0
    this.#lastLog = 0
    this.#opts.logger.warn({ attempts, ...this.#opts.fields, ...fields, outage_ms: outageMs }, this.#opts.recoveredMessage)
  }
}
