import { AsyncLocalStorage } from 'node:async_hooks'
import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { GroupCommitQueue, NotCommittedError, RefusedError, refusedError } from '@opskit/store'
import { createItemsTable, insertItems, openTestDatabase, target } from './test-database.js'
import { useTestDatabase } from '../../../test-utils/pg-database.js'

interface Item { id: string; seq: number; label?: string }

describe(`GroupCommitQueue faults against ${target}`, () => {
  const { db, newTable } = useTestDatabase(openTestDatabase)

  async function freshTable(): Promise<string> {
    const table = newTable('store_faults')
    await createItemsTable(db, table)
    return table
  }

  it('a batch the database refuses for one row\'s content is split: every other row commits, only that push rejects (with the error onRefused makes)', async () => {
    const table = await freshTable()
    await db.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_label_check CHECK (label IS NULL OR label <> 'poison')`)
    const writes: number[] = []
    const refused: Item[] = []
    const queue = new GroupCommitQueue<Item>({
      maxBatchSize: 64,
      write: async (batch) => {
        writes.push(batch.length)
        await insertItems(db, table, batch)
      },
      onRefused: async (item, error) => {
        refused.push(item)
        return refusedError(db, error, { pkg: '@opskit/test', what: 'item' })
      },
      onWriteFailure: () => { throw new Error('a data error is not an outage') },
    })
    const items = Array.from({ length: 64 }, (_, seq) => ({ id: randomUUID(), seq, label: seq === 41 ? 'poison' : 'ok' }))
    const results = await Promise.allSettled(items.map((item) => queue.push(item)))
    const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [[i, r.reason] as const] : []))
    expect(rejected.map(([i]) => i)).toEqual([41])
    expect(rejected[0]![1]).toBeInstanceOf(RefusedError)
    if (target.startsWith('PostgreSQL')) expect((rejected[0]![1] as RefusedError).fields).toEqual(['label'])
    expect(refused.map((item) => item.seq)).toEqual([41])
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)
    expect(rows[0]!.n).toBe(63)
    // 64 → 32 + 32 → … → 1: a handful of statements, not one per row.
    expect(writes.length).toBeLessThanOrEqual(2 + 2 * Math.log2(64))
    await queue.close({ timeoutMs: 1000 })
  })

  it('a write that never settles is timed out and retried; a push not committed in settleTimeoutMs rejects NotCommittedError and is still written once', async () => {
    const table = await freshTable()
    let hang = true
    let attempts = 0
    const queue = new GroupCommitQueue<Item>({
      writeTimeoutMs: 50,
      settleTimeoutMs: 100,
      retryBaseMs: 10,
      retryMaxMs: 20,
      write: async (batch) => {
        attempts++
        if (hang) return new Promise<void>(() => undefined) // a server gone silent
        await insertItems(db, table, batch)
      },
    })
    const item = { id: randomUUID(), seq: 1 }
    const pushed = queue.push(item)
    await expect(pushed).rejects.toBeInstanceOf(NotCommittedError)
    await expect(pushed).rejects.toThrow(/not committed yet/)
    expect(attempts).toBeGreaterThan(1)
    expect(queue.depth).toBe(1)
    hang = false
    await queue.flush()
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE id = $1`, [item.id])
    expect(rows[0]!.n).toBe(1)
    await queue.close()
  })

  it('writes, retries and their callbacks run outside the async context of the push that started them', async () => {
    const storage = new AsyncLocalStorage<string>()
    const seen: Array<string | undefined> = []
    let failures = 0
    const queue = new GroupCommitQueue<Item>({
      retryBaseMs: 5,
      retryMaxMs: 10,
      write: async () => {
        seen.push(storage.getStore())
        if (failures++ < 2) throw new Error('connection refused')
      },
      onWriteFailure: () => { seen.push(storage.getStore()) },
      onRecovered: () => { seen.push(storage.getStore()) },
    })
    await storage.run('request-1', () => queue.push({ id: randomUUID(), seq: 1 }))
    expect(seen.length).toBeGreaterThanOrEqual(5)
    expect(seen.every((value) => value === undefined)).toBe(true)
    await queue.close()
  })
})
