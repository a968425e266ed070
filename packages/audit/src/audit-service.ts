import type { FastifyBaseLogger } from 'fastify'
import { getRequestContext, markRecorded, redactString, wasRecorded, type RequestContext } from '@opskit/core'
import {
  GroupCommitQueue, listRows, NotCommittedError, openDatabase, OutageLog, parseListQuery, QueueClosedError, QueueFullError, quoteIdent, RefusedError,
  refusedError, runMigration, Spool,
  type Database, type ListSpec, type ParsedList,
} from '@opskit/store'
import type { AuditMetrics } from './audit-metrics.js'
import { buildRecord, eventProblem } from './build-record.js'
import { InvalidAuditEventError } from './errors.js'
import { AuditInsert, fromSpoolEntry, toSpoolEntry } from './insert-sql.js'
import { FieldRedactor } from './redact-fields.js'
import type { ResolvedAuditOptions } from './options.js'
import { auditTableSql } from './schema.js'
import type { AuditTrailApi, AuditCallOptions, AuditContext, AuditEvent, AuditPage, AuditQuery, AuditRecord } from './types.js'

export const AUDIT_LIST_SPEC: ListSpec = {
  filters: {
    user_id: { column: 'user_id', kind: 'text' },
    action: { column: 'action', kind: 'text' },
    entity_type: { column: 'entity_type', kind: 'text' },
    entity_id: { column: 'entity_id', kind: 'text' },
    from: { column: 'created_at', kind: 'date-from' },
    to: { column: 'created_at', kind: 'date-to' },
  },
}

/** Core's "already recorded" key for an audit event recorded inside a request (autoAudit skips it). */
const AUDITED_KEY = 'audit:event'

/** ERROR lines during one outage: the first failure, then at most one every this many ms. */
const FAILURE_LOG_INTERVAL_MS = 30_000

const handled = (): void => undefined

/** Rows one retention DELETE removes at most. */
const PURGE_CHUNK = 10_000

/** One audit row's identifying fields, for log lines. */
const eventFields = (record: AuditRecord) => ({ action: record.action, entity_type: record.entity_type, entity_id: record.entity_id })

/** One audit trail: the database, the group-commit queue, the log lines and metrics around them. */
export class AuditService implements AuditTrailApi {
  readonly db: Database
  readonly #options: ResolvedAuditOptions
  readonly #log: FastifyBaseLogger
  readonly #insert: AuditInsert
  readonly #redactor: FieldRedactor
  readonly #queue: GroupCommitQueue<AuditRecord>
  #metrics: AuditMetrics | null = null
  /** With autoAudit on: each event recorded inside a request marks its context (core's `markRecorded`). */
  #trackAudited = false
  readonly #outage: OutageLog
  #lastFullLog = 0
  /** Events refused as queue full and not yet reported in a log line (the line is throttled). */
  #unreportedFull = 0
  #closed = false
  readonly #spool: Spool | undefined

  private constructor(db: Database, options: ResolvedAuditOptions, log: FastifyBaseLogger, spool: Spool | undefined) {
    this.#spool = spool
    this.db = db
    this.#options = options
    this.#log = log
    this.#insert = new AuditInsert(options.table)
    this.#redactor = new FieldRedactor(options.redact)
    this.#outage = new OutageLog({
      logger: log,
      // A database message can echo a value from a row: masked like every other log field.
      redact: redactString,
      failedMessage: '@opskit/audit: writing audit events failed; they stay queued and are retried',
      recoveredMessage: '@opskit/audit: audit writes recovered',
      intervalMs: FAILURE_LOG_INTERVAL_MS,
    })
    const { maxBatchSize, maxQueueSize, maxConcurrentWrites, retryBaseMs, retryMaxMs, writeTimeoutMs, settleTimeoutMs } = options.queue
    this.#queue = new GroupCommitQueue<AuditRecord>({
      write: (batch) => this.#insert.write(db, batch),
      maxBatchSize,
      maxQueueSize,
      maxConcurrentWrites,
      retryBaseMs,
      retryMaxMs,
      writeTimeoutMs,
      settleTimeoutMs,
      onWriteFailure: (error, size, attempt) => this.#onWriteFailure(error, size, attempt),
      onRecovered: (attempts) => this.#outage.recovered(attempts, { queue_depth: this.#queue.depth }),
      onCommitted: (batch) => this.#onCommitted(batch),
      onRefused: (record, error) => this.#onRefused(record, error),
      onAbandoned: (records) => this.#metrics?.notStored(records.length),
      spool: spool === undefined ? undefined : { spool, toEntry: toSpoolEntry },
      logger: log,
      name: '@opskit/audit',
    })
  }

  static async open(options: ResolvedAuditOptions, log: FastifyBaseLogger): Promise<AuditService> {
    const spool = options.spool === undefined ? undefined : await Spool.open(options.spool, `audit-${options.table}`)
    const db = await openDatabase(options.connection, { logger: log, pkg: '@opskit/audit' })
    return new AuditService(db, options, log, spool)
  }

  /** Queues what the spool's files hold from an earlier process (after the table exists). */
  async replaySpool(): Promise<void> {
    if (this.#spool === undefined) return
    let total = 0
    for (const { segment, entries } of await this.#spool.leftovers()) {
      const records = entries.map(fromSpoolEntry).filter((r): r is AuditRecord => r !== null)
      // Entries that are not audit rows are settled at once (never replayed again).
      if (records.length < entries.length) this.#spool.settle(segment, entries.length - records.length)
      this.#queue.replay(records, segment)
      total += records.length
    }
    if (total > 0) {
      this.#log.warn({ replayed: total, spool_dir: this.#spool.dir }, `@opskit/audit: replaying ${total} audit events an earlier process accepted and did not see committed (spool)`)
    }
  }

  /** Starts remembering which requests recorded events (for autoAudit). */
  trackAuditedRequests(): void {
    this.#trackAudited = true
  }

  /** True when code inside this request recorded an event (request.audit() or fastify.audit.record()). */
  wasAudited(context: RequestContext | null | undefined): boolean {
    return this.#trackAudited && wasRecorded(context, AUDITED_KEY)
  }

  setMetrics(metrics: AuditMetrics | null): void {
    this.#metrics = metrics
  }

  get queueDepth(): number {
    return this.#queue.depth
  }

  migrate(): Promise<void> {
    return runMigration(this.db, `opskit-audit:${this.#options.table}`, auditTableSql(this.#options.table))
  }

  record(event: AuditEvent, ctx?: AuditContext): Promise<AuditRecord> {
    return this.recordIn(getRequestContext(), event, ctx)
  }

  /**
   * The request path: builds the row synchronously and queues it (or writes it on `ctx.client`).
   * The returned promise never triggers an unhandled rejection when nobody awaits it: every failure
   * is logged here (or by the queue at close) and still rejects for callers who do await.
   */
  recordIn(context: RequestContext | undefined, event: AuditEvent, ctx: AuditContext | AuditCallOptions | undefined): Promise<AuditRecord> {
    const problem = eventProblem(event)
    if (problem !== undefined) {
      const error = new InvalidAuditEventError(problem)
      this.#log.error({ err: error }, error.message)
      const rejected = Promise.reject(error)
      rejected.catch(handled)
      return rejected
    }
    const record = buildRecord(event, context, ctx as AuditContext | undefined, this.#redactor)
    if (this.#trackAudited && context !== undefined) markRecorded(context, AUDITED_KEY)
    const client = ctx?.client
    let promise: Promise<AuditRecord>
    if (client !== undefined) {
      promise = this.#insert.write(client, [record]).then(() => {
        this.#metrics?.committed(new Map([[record.action, 1]]))
        return record
      }, (err: Error) => {
        this.#onClientWriteFailure(err, record)
        throw err
      })
    } else {
      if (this.#closed) this.#logRefused(record, 'recorded after fastify.close()')
      promise = this.#queue.enqueue(record)
    }
    // Marks the promise handled (no unhandledRejection when nobody awaits); callers who await
    // still get the error.
    promise.then(undefined, (err: Error) => this.#onNotStored(err, record))
    return promise
  }

  // Every rejection of an accepted-looking event means it will never be stored: counted here, and
  // logged here when nobody else logs it (queue full). The others are logged where they happen:
  // after close (#logRefused), on the caller's client (#onClientWriteFailure), at the close
  // deadline (by the queue, with the count).
  // Not counted here: NotCommittedError (the event is still queued), a refusal for its content
  // (counted and logged by #onRefused) and the close deadline (counted by onAbandoned, logged by the
  // queue with the count), which also reach events whose callers were already told "not committed".
  #onNotStored(err: Error, record: AuditRecord): void {
    if (err instanceof NotCommittedError || err instanceof RefusedError) return
    if (err instanceof QueueClosedError && err.accepted) return
    this.#metrics?.notStored()
    if (err instanceof QueueFullError) this.#logQueueFull(err, record)
  }

  // Alone in its INSERT and still refused (a value too large for an index, a CHECK the table has):
  // never retried; the events grouped with it are stored.
  async #onRefused(record: AuditRecord, error: Error): Promise<Error> {
    const refused = await refusedError(this.db, error, { pkg: '@opskit/audit', what: 'audit event', redact: redactString })
    this.#metrics?.notStored()
    this.#log.error(
      {
        err: { message: refused.message, code: refused.code, sql_state: refused.sqlState },
        fields: refused.fields,
        event_id: record.id,
        ...eventFields(record),
        // The event's own request (this line is written off the request path).
        event_request_id: record.request_id,
      },
      `@opskit/audit: audit event REFUSED by the database for its content and NOT stored${refused.fields.length > 0 ? ` (field ${refused.fields.join(', ')})` : ''}`,
    )
    return refused
  }

  query(filters?: AuditQuery): Promise<AuditPage> {
    let parsed: ParsedList
    try {
      parsed = parseListQuery(filters ?? {}, AUDIT_LIST_SPEC)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.list(parsed)
  }

  list(parsed: ParsedList): Promise<AuditPage> {
    return listRows<AuditRecord>(this.db, this.#options.table, parsed)
  }

  flush(): Promise<void> {
    return this.#queue.flush()
  }

  /**
   * Rows older than `days` deleted; resolves with how many. In chunks of 10,000 rows, so each
   * statement stays well inside the pool's `statement_timeout` however large the backlog is.
   */
  async purgeOlderThan(days: number): Promise<number> {
    const table = quoteIdent(this.#options.table)
    let total = 0
    for (;;) {
      const { rowCount } = await this.db.query(
        `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE created_at < now() - ($1::double precision * interval '1 day') LIMIT ${PURGE_CHUNK})`,
        [days],
      )
      total += rowCount ?? 0
      if ((rowCount ?? 0) < PURGE_CHUNK || this.#closed) return total
    }
  }

  /** Flushes (retrying until the close deadline), then closes what `openDatabase` opened. */
  async close(): Promise<void> {
    this.#closed = true
    this.#reportUnreportedFull()
    await this.#queue.close({ timeoutMs: this.#options.queue.closeTimeoutMs })
    await this.db.close()
  }

  #onCommitted(batch: AuditRecord[]): void {
    if (this.#unreportedFull > 0) this.#reportUnreportedFull()
    if (this.#metrics === null) return
    const counts = new Map<string, number>()
    for (const row of batch) counts.set(row.action, (counts.get(row.action) ?? 0) + 1)
    this.#metrics.committed(counts)
  }

  #onWriteFailure(error: Error, size: number, attempt: number): void {
    this.#metrics?.writeFailed()
    this.#outage.failed(error, { batch_size: size, attempt, queue_depth: this.#queue.depth })
  }

  // Transactional mode is not retried (the caller's transaction decides); a caller that does not
  // await would otherwise never learn that the row, and on PostgreSQL its whole transaction, is gone.
  #onClientWriteFailure(error: Error, record: AuditRecord): void {
    this.#metrics?.writeFailed()
    this.#log.error(
      {
        err: { message: redactString(error.message), code: (error as { code?: string }).code },
        ...eventFields(record),
      },
      '@opskit/audit: writing an audit event on the caller\'s client failed; the event is NOT stored',
    )
  }

  #logRefused(record: AuditRecord, reason: string): void {
    this.#log.error(eventFields(record), `@opskit/audit: audit event REJECTED: ${reason}`)
  }

  // Throttled (a full queue can refuse thousands of events a second), but no refusal goes
  // unreported: each line carries how many were refused since the previous one, and the rest are
  // reported once writes make progress again, or at close.
  #logQueueFull(error: Error, record: AuditRecord): void {
    this.#unreportedFull++
    const now = Date.now()
    if (now - this.#lastFullLog < FAILURE_LOG_INTERVAL_MS) return
    this.#lastFullLog = now
    const refused = this.#unreportedFull
    this.#unreportedFull = 0
    this.#log.error(
      { ...eventFields(record), refused, queue_depth: this.#queue.depth },
      `@opskit/audit: audit event REJECTED: ${error.message}`,
    )
  }

  #reportUnreportedFull(): void {
    if (this.#unreportedFull === 0) return
    const refused = this.#unreportedFull
    this.#unreportedFull = 0
    this.#log.error(
      { refused, queue_depth: this.#queue.depth },
      `@opskit/audit: ${refused} more audit events were REJECTED because the queue was full; they are NOT stored`,
    )
  }
}
