import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { QueueFullError } from '@opskit/audit'
import { buildApp, captureLogs, DATABASE_URL, metricsText, target, useTestDb } from './helpers.js'

describe(`group commit against ${target}`, () => {
  const { db, newTable } = useTestDb()
  let app: FastifyInstance | undefined
  afterEach(async () => {
    await app?.close()
    app = undefined
  })

  /** Counts INSERTs into `table` sent through the test's connection (instrumentation, not a mock). */
  function countInserts(table: string): { count: number; restore(): void } {
    const connection = db.connection as any
    const original = connection.query
    const counter = {
      count: 0,
      restore() {
        connection.query = original
      },
    }
    connection.query = function (this: unknown, text: unknown, ...rest: unknown[]) {
      // A string, or { name, text, values } for the prepared INSERT.
      const sql = typeof text === 'string' ? text : (text as { text?: unknown } | null)?.text
      if (typeof sql === 'string' && sql.startsWith(`INSERT INTO "${table}"`)) counter.count++
      return original.call(this, text, ...rest)
    }
    return counter
  }

  /** Blocks INSERTs into `table` until release() (a lock held by another transaction). */
  async function blockWrites(table: string): Promise<() => Promise<void>> {
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    let locked!: () => void
    const isLocked = new Promise<void>((resolve) => { locked = resolve })
    const done = db.transaction(async (client) => {
      if (DATABASE_URL !== undefined) await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`)
      // PGlite: an open transaction holds its only connection, so every other query waits.
      locked()
      await gate
    })
    await isLocked
    return async () => {
      release()
      await done
    }
  }

  it('turns 400 concurrent record() calls into a few multi-row INSERTs; each resolves once its row is committed', async () => {
    const table = newTable()
    app = await buildApp({ connection: db.connection, table })
    const inserts = countInserts(table)
    try {
      const records = await Promise.all(Array.from({ length: 400 }, (_, i) => app!.audit.record({ action: 'update', entityType: 'item', entityId: i }).then(async (record) => {
        const rows = await db.query(`SELECT 1 FROM ${table} WHERE id = $1`, [record.id])
        expect(rows).toHaveLength(1)
        return record
      })))
      expect(new Set(records.map((r) => r.id)).size).toBe(400)
      expect(inserts.count).toBeGreaterThan(0)
      expect(inserts.count).toBeLessThanOrEqual(4)
    } finally {
      inserts.restore()
    }
  })

  it('rejects with FST_OPSKIT_QUEUE_FULL when the queue is full (logged and counted, none silently), and writes every accepted event once writes resume', async () => {
    const table = newTable()
    const { lines, stream } = captureLogs()
    app = await buildApp({ connection: db.connection, table, queue: { maxQueueSize: 5 } }, { logs: stream, metrics: true })
    const release = await blockWrites(table)
    const accepted = Array.from({ length: 5 }, (_, i) => app!.audit.record({ action: 'update', entityType: 'item', entityId: i }))
    const refused = await app.audit.record({ action: 'update', entityType: 'item', entityId: 99 }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(QueueFullError)
    expect((refused as QueueFullError).code).toBe('FST_OPSKIT_QUEUE_FULL')
    // Three more, not awaited: the ERROR line is throttled, so they are reported with a count.
    for (let i = 100; i < 103; i++) void app.audit.record({ action: 'update', entityType: 'item', entityId: i })
    const rejected = () => lines.filter((l) => l.level === 50 && l.msg.includes('REJECTED'))
    await vi.waitFor(() => expect(rejected()).toHaveLength(1))
    expect(rejected()[0]).toMatchObject({ action: 'update', entity_type: 'item', entity_id: '99', refused: 1 })
    expect(app.audit.queueDepth).toBe(5)
    await release()
    await Promise.all(accepted)
    expect(rejected()).toHaveLength(2)
    expect(rejected()[1]).toMatchObject({ refused: 3 })
    expect(rejected()[1]!.msg).toContain('3 more audit events were REJECTED')
    expect(await metricsText(app)).toContain('audit_events_not_stored_total 4')
    const rows = await db.query(`SELECT entity_id FROM ${table} ORDER BY entity_id`)
    expect(rows.map((r) => r.entity_id)).toEqual(['0', '1', '2', '3', '4'])
  })

  it('fastify.close() flushes every accepted event, including ones nobody awaited', async () => {
    const table = newTable()
    app = await buildApp({ connection: db.connection, table }, {
      routes: (a) => {
        a.post('/things', async (request) => {
          for (let i = 0; i < 50; i++) void request.audit({ action: 'create', entityType: 'thing', entityId: i })
          return { ok: true }
        })
      },
    })
    const release = await blockWrites(table)
    for (let i = 0; i < 4; i++) expect((await app.inject({ method: 'POST', url: '/things' })).statusCode).toBe(200)
    expect(app.audit.queueDepth).toBe(200)
    const closing = app.close()
    app = undefined
    await release()
    await closing
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM ${table}`)
    expect(n).toBe(200)
  })

  it('publishes audit_events_total{action} and audit_queue_depth through fastify.metrics', async () => {
    const table = newTable()
    app = await buildApp({ connection: db.connection, table }, { metrics: true })
    await Promise.all([
      app.audit.record({ action: 'create', entityType: 'a' }),
      app.audit.record({ action: 'create', entityType: 'a' }),
      app.audit.record({ action: 'refund', entityType: 'payment' }),
    ])
    const text = await metricsText(app)
    expect(text).toContain('audit_events_total{action="create"} 2')
    expect(text).toContain('audit_events_total{action="refund"} 1')
    expect(text).toContain('audit_queue_depth 0')
    expect(text).toContain('audit_write_failures_total 0')
    expect(text).toContain('audit_events_not_stored_total 0')
  })

  it('counts at most 200 distinct action labels; further actions as action="other"', async () => {
    const table = newTable()
    app = await buildApp({ connection: db.connection, table }, { metrics: true })
    await Promise.all(Array.from({ length: 205 }, (_, i) => app!.audit.record({ action: `action-${i}`, entityType: 'a' })))
    await app.audit.record({ action: 'action-0', entityType: 'a' })
    const text = await metricsText(app)
    expect(text.match(/^audit_events_total\{/gm)).toHaveLength(201)
    expect(text).toContain('audit_events_total{action="other"} 5')
    expect(text).toContain('audit_events_total{action="action-0"} 2')
  })
})
