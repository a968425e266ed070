import { redactString } from '@opskit/core'
import { GroupCommitQueue, InvalidQueryError, listRows, OutageLog, parseListQuery, PreparedStatement, QueueClosedError, refusedError, runMigration } from '@opskit/store'
import type { Spool } from '@opskit/store'
import type { Database, ListResult, ListSpec, ParsedList } from '@opskit/store'
import { metricsOf } from '@opskit/metrics'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { isSeverity } from './actions.js'
import { AbuseDetector } from './abuse-detector.js'
import type { SuspiciousDetails } from './abuse-detector.js'
import { AlertDispatcher } from './alert-dispatcher.js'
import { EventMetric } from './event-metric.js'
import { logSecurityEvent } from './log-line.js'
import type { ResolvedOptions } from './options.js'
import { buildRecord } from './record.js'
import type { SecurityEvent, SecurityEventContext, SecurityRecord } from './record.js'
import { COLUMNS, insertParams, insertStatement, securityLogMigration } from './schema.js'

/** Query parameters of `GET <prefix>` and `securityLog.query()`. */
export const LIST_SPEC: ListSpec = {
  filters: {
    action: { column: 'action', kind: 'text' },
    severity: { column: 'severity', kind: 'text' },
    user_id: { column: 'user_id', kind: 'text' },
    ip: { column: 'ip_address', kind: 'ip' },
    from: { column: 'created_at', kind: 'date-from' },
    to: { column: 'created_at', kind: 'date-to' },
  },
}

/** `fastify.securityLog` */
export interface SecurityLogApi {
  /**
   * Records an event. Context (ip, user agent, path, request id, actor) comes from `context`, or
   * from the current request (`getRequestContext()`) when omitted. Resolves with the stored row
   * once it is committed.
   */
  record(event: SecurityEvent, context?: SecurityEventContext): Promise<SecurityRecord>
  /** One page of events, newest first: filters `action, severity, user_id, ip, from, to`, `limit`, `skip`. */
  query(filters?: Record<string, unknown>): Promise<ListResult<SecurityRecord>>
  /** Resolves when every event recorded so far (suspicious_activity included) is written. */
  flush(): Promise<void>
  /** Creates the table and indexes (what `migrate: true` runs at startup). */
  migrate(): Promise<void>
  /** The table events go to. */
  readonly table: string
}

type Row = unknown[]

const FAILURE_LOG_INTERVAL_MS = 30_000

function noop(): void {}

/** The engine behind the plugin: builds, logs, counts, alerts and group-commits events. */
export class SecurityLog {
  readonly metric = new EventMetric()
  readonly #db: Database
  readonly #options: ResolvedOptions
  readonly #logger: FastifyBaseLogger
  readonly #queue: GroupCommitQueue<Row>
  readonly #abuse: AbuseDetector | undefined
  readonly #alerts: AlertDispatcher | undefined
  readonly #observing = new Set<Promise<void>>()
  readonly #insert: PreparedStatement
  readonly #outage: OutageLog
  readonly #spool: Spool | undefined

  constructor(db: Database, options: ResolvedOptions, logger: FastifyBaseLogger, redis: import('ioredis').Redis | undefined, spool?: Spool) {
    this.#spool = spool
    this.#db = db
    this.#options = options
    this.#logger = logger
    const { table, queue } = options
    this.#insert = new PreparedStatement(insertStatement(table))
    this.#outage = new OutageLog({
      logger,
      // A database message can echo a value from a row: masked like every other log field.
      redact: redactString,
      failedMessage: '@opskit/security-log: writing security events failed; retrying (nothing is dropped)',
      recoveredMessage: '@opskit/security-log: security events are being written again',
      fields: { table },
      intervalMs: FAILURE_LOG_INTERVAL_MS,
    })
    this.#queue = new GroupCommitQueue<Row>({
      write: (batch) => this.#write(batch),
      maxBatchSize: queue.maxBatchSize,
      // Two batches in flight (as audit's default): one is written while the next fills.
      maxConcurrentWrites: 2,
      maxQueueSize: queue.maxQueueSize,
      retryBaseMs: queue.retryBaseMs,
      retryMaxMs: queue.retryMaxMs,
      writeTimeoutMs: queue.writeTimeoutMs,
      settleTimeoutMs: queue.settleTimeoutMs,
      onWriteFailure: (error, batchSize, attempt) => {
        this.metric.writeFailure()
        this.#outage.failed(error, { batch_size: batchSize, attempt, queue_depth: this.#queue.depth })
      },
      onRecovered: (attempts) => this.#outage.recovered(attempts, { queue_depth: this.#queue.depth }),
      onRefused: (row, error) => this.#onRefused(row, error),
      onAbandoned: (rows) => {
        for (let i = 0; i < rows.length; i++) this.metric.notStored()
      },
      // A row is already its column values, JSON-safe (details as jsonb text).
      spool: spool === undefined ? undefined : { spool, toEntry: (row) => row },
      logger,
      name: '@opskit/security-log',
    })
    if (options.abuse !== undefined) {
      this.#abuse = new AbuseDetector({
        ...options.abuse,
        redis,
        logger,
        onCrossing: (trigger, details) => this.#suspicious(trigger, details),
      })
    }
    if (options.alerts !== undefined) this.#alerts = new AlertDispatcher({ ...options.alerts, logger })
  }

  /** Queues what the spool's files hold from an earlier process (after the table exists). */
  async replaySpool(): Promise<void> {
    if (this.#spool === undefined) return
    let total = 0
    for (const { segment, entries } of await this.#spool.leftovers()) {
      // An entry spooled before `trace_id` (the last column) existed is one value short: no trace.
      const rows = entries
        .map((entry) => (Array.isArray(entry) && entry.length === COLUMNS.length - 1 ? [...entry, null] : entry))
        .filter((entry): entry is Row => Array.isArray(entry) && entry.length === COLUMNS.length && typeof entry[0] === 'string')
      if (rows.length < entries.length) this.#spool.settle(segment, entries.length - rows.length)
      this.#queue.replay(rows, segment)
      total += rows.length
    }
    if (total > 0) {
      this.#logger.warn({ replayed: total, spool_dir: this.#spool.dir }, `@opskit/security-log: replaying ${total} security events an earlier process accepted and did not see committed (spool)`)
    }
  }

  migrate(): Promise<void> {
    return runMigration(this.#db, `opskit:security-log:${this.#options.table}`, securityLogMigration(this.#options.table))
  }

  /**
   * Records `event` with `context`; logs through `logger` (a request's logger carries request_id).
   * The returned promise never goes unhandled: a failure is logged here as well.
   */
  record(event: SecurityEvent, context: SecurityEventContext, logger: FastifyBaseLogger = this.#logger): Promise<SecurityRecord> {
    let promise: Promise<SecurityRecord>
    try {
      promise = this.#accept(event, context, logger).stored
    } catch (err) {
      logger.error({ err, action: typeof event?.action === 'string' ? event.action : undefined }, '@opskit/security-log: invalid security event, NOT recorded')
      promise = Promise.reject(err as Error)
    }
    promise.catch(noop)
    return promise
  }

  async query(filters: Record<string, unknown> = {}): Promise<ListResult<SecurityRecord>> {
    return this.list(parseListQuery(filters, LIST_SPEC))
  }

  list(parsed: ParsedList): Promise<ListResult<SecurityRecord>> {
    for (const filter of parsed.filters) {
      if (filter.param === 'severity' && !isSeverity(filter.value)) {
        return Promise.reject(new InvalidQueryError('severity', 'expected info, warning or critical'))
      }
    }
    return listRows(this.#db, this.#options.table, parsed) as Promise<ListResult<SecurityRecord>>
  }

  async flush(): Promise<void> {
    // Abuse checks in flight may still record suspicious_activity: wait for them first.
    while (this.#observing.size > 0) await Promise.allSettled([...this.#observing])
    await this.#queue.flush()
  }

  /** Waits for abuse checks, writes what was accepted (up to the queue's deadline), stops alerts. */
  async close(): Promise<void> {
    while (this.#observing.size > 0) await Promise.allSettled([...this.#observing])
    await Promise.all([
      this.#queue.close({ timeoutMs: this.#options.queue.closeTimeoutMs }),
      this.#alerts?.close(this.#options.alerts?.closeTimeoutMs ?? 0),
    ])
  }

  /** Counts events and alert deliveries through `@opskit/metrics` when it is registered; call from `onReady`. */
  bindMetrics(fastify: FastifyInstance): void {
    const metrics = metricsOf(fastify)
    if (metrics === undefined) return
    this.metric.bind(metrics)
    this.#alerts?.bindMetrics(metrics)
  }

  #accept(event: SecurityEvent, context: SecurityEventContext, logger: FastifyBaseLogger): { record: SecurityRecord; stored: Promise<SecurityRecord> } {
    const { record, detailsJson } = buildRecord(event, context, this.#options.redact)
    logSecurityEvent(logger, record)
    this.metric.count(record.action, record.severity)
    const stored = this.#queue.push([
      record.id,
      record.action,
      record.severity,
      record.user_id,
      record.user_email,
      record.ip_address,
      record.user_agent,
      record.request_path,
      record.request_id,
      detailsJson,
      record.created_at,
      record.trace_id,
    ]).then(
      () => record,
      (err: Error & { code?: string }) => {
        // Still queued (written once the database answers), or refused for its content (logged
        // and counted by #onRefused): not "lost" here.
        if (err.code === 'FST_OPSKIT_NOT_COMMITTED' || err.code === 'FST_OPSKIT_REFUSED') throw err
        // Given up at close: counted once for every such event by onAbandoned.
        if (!(err instanceof QueueClosedError && err.accepted)) this.metric.notStored()
        logger.error(
          { event_id: record.id, action: record.action, err: { message: err.message, code: (err as { code?: string }).code } },
          `@opskit/security-log: security event ${record.action} NOT stored`,
        )
        throw err
      },
    )
    this.#alerts?.notify(record)
    if (this.#abuse !== undefined && this.#abuse.watches(record.action)) {
      const observing = this.#abuse.observe(record).finally(() => this.#observing.delete(observing))
      this.#observing.add(observing)
    }
    return { record, stored }
  }

  #suspicious(trigger: SecurityRecord, details: SuspiciousDetails): void {
    const { record, stored } = this.#accept(
      { action: 'suspicious_activity', severity: 'critical', userId: trigger.user_id, email: trigger.user_email, details },
      { ip: trigger.ip_address, userAgent: trigger.user_agent, requestPath: trigger.request_path, requestId: trigger.request_id },
      this.#logger,
    )
    stored.catch(noop)
    const onSuspicious = this.#options.abuse?.onSuspicious
    if (onSuspicious === undefined) return
    try {
      const result = onSuspicious(record)
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        ;(result as Promise<void>).then(undefined, (err: unknown) => this.#onSuspiciousFailed(err))
      }
    } catch (err) {
      this.#onSuspiciousFailed(err)
    }
  }

  #onSuspiciousFailed(err: unknown): void {
    this.#logger.error({ err }, '@opskit/security-log: abuse.onSuspicious threw')
  }

  async #write(batch: Row[]): Promise<void> {
    await this.#insert.run(this.#db, insertParams(batch))
  }

  // Alone in its INSERT and still refused (a CHECK or an index the table was given): never retried;
  // the events grouped with it are stored.
  async #onRefused(row: Row, error: Error): Promise<Error> {
    const refused = await refusedError(this.#db, error, { pkg: '@opskit/security-log', what: 'security event', redact: redactString })
    this.metric.notStored()
    this.#logger.error(
      { err: { message: refused.message, code: refused.code, sql_state: refused.sqlState }, fields: refused.fields, event_id: row[0], action: row[1], table: this.#options.table },
      `@opskit/security-log: security event ${String(row[1])} REFUSED by the database for its content and NOT stored${refused.fields.length > 0 ? ` (field ${refused.fields.join(', ')})` : ''}`,
    )
    return refused
  }
}
