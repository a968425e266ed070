import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { GroupCommitQueue, QueueClosedError, QueueFullError } from '@opskit/store'
import { createItemsTable, insertItems, openTestDatabase, target } from './test-database.js'
import { useTestDatabase } from '../../../test-utils/pg-database.js'

interface Item { id: string; seq: number; label?: string }

describe(`GroupCommitQueue against ${target}`, () => {
  const { db, newTable } = useTestDatabase(openTestDatabase)

  async function freshTable(): Promise<string> {
    const table = newTable('store_gc')
    await createItemsTable(db, table)
    return table
  }

  async function countRows(table: string): Promise<{ total: number; distinct: number }> {
    const { rows } = await db.query<{ total: number; distinct: number }>(`SELECT count(*)::int AS total, count(DISTINCT id)::int AS distinct FROM ${table}`)
    return rows[0]!
  }

  it('groups concurrent pushes into few INSERTs and resolves each push only after its row is committed', async () => {
    const table = await freshTable()
    const batchSizes: number[] = []
    const queue = new GroupCommitQueue<Item>({
      write: async (batch) => {
        batchSizes.push(batch.length)
        await insertItems(db, table, batch)
      },
    })
    const items = Array.from({ length: 300 }, (_, seq) => ({ id: randomUUID(), seq }))
    await Promise.all(items.map(async (item) => {
      await queue.push(item)
      const { rows } = await db.query(`SELECT 1 FROM ${table} WHERE id = $1`, [item.id])
      expect(rows).toHaveLength(1)
    }))
    expect(batchSizes.reduce((a, b) => a + b, 0)).toBe(300)
    expect(batchSizes.length).toBeLessThanOrEqual(3)
    expect(queue.depth).toBe(0)
    await queue.close()
  })

  it('writes the first item of an idle queue without waiting for more', async () => {
    const table = await freshTable()
    const queue = new GroupCommitQueue<Item>({ write: (batch) => insertItems(db, table, batch) })
    await queue.push({ id: randomUUID(), seq: 1 })
    expect((await countRows(table)).total).toBe(1)
    await queue.close()
  })

  it('caps a batch at maxBatchSize and keeps the order of rows', async () => {
    const table = await freshTable()
    const batches: number[][] = []
    const queue = new GroupCommitQueue<Item>({
      maxBatchSize: 7,
      write: async (batch) => {
        batches.push(batch.map((item) => item.seq))
        await insertItems(db, table, batch)
      },
    })
    await Promise.all(Array.from({ length: 50 }, (_, seq) => queue.push({ id: randomUUID(), seq })))
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(7)
    expect(batches.flat()).toEqual(Array.from({ length: 50 }, (_, i) => i))
    await queue.close()
  })

  it('retries a failed batch with backoff and lands every row exactly once (ambiguous failure after INSERT)', async () => {
    const table = await freshTable()
    const failures: Array<[number, number]> = []
    let recoveredAfter = 0
    let calls = 0
    const queue = new GroupCommitQueue<Item>({
      retryBaseMs: 5,
      retryMaxMs: 20,
      write: async (batch) => {
        calls++
        await insertItems(db, table, batch)
        // The INSERT committed but the caller never heard back (a connection drop mid-COMMIT).
        if (calls <= 2) throw new Error('connection terminated unexpectedly')
      },
      onWriteFailure: (_err, size, attempt) => failures.push([size, attempt]),
      onRecovered: (attempts) => { recoveredAfter = attempts },
    })
    const items = Array.from({ length: 40 }, (_, seq) => ({ id: randomUUID(), seq }))
    await Promise.all(items.map((item) => queue.push(item)))
    expect(failures.map(([, attempt]) => attempt)).toEqual([1, 2])
    expect(recoveredAfter).toBe(2)
    expect(await countRows(table)).toEqual({ total: 40, distinct: 40 })
    await queue.close()
  })

  it('rejects QueueFullError at once when maxQueueSize items are unwritten, and accepts again once written', async () => {
    const table = await freshTable()
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    const queue = new GroupCommitQueue<Item>({
      maxQueueSize: 3,
      write: async (batch) => {
        await gate
        await insertItems(db, table, batch)
      },
    })
    const accepted = [0, 1, 2].map((seq) => queue.push({ id: randomUUID(), seq }))
    expect(queue.depth).toBe(3)
    const err = await queue.push({ id: randomUUID(), seq: 3 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(QueueFullError)
    expect((err as QueueFullError).code).toBe('FST_OPSKIT_QUEUE_FULL')
    release()
    await Promise.all(accepted)
    await queue.push({ id: randomUUID(), seq: 4 })
    expect((await countRows(table)).total).toBe(4)
    await queue.close()
  })

  it('reports the depth through onDepthChange and flush() waits for everything accepted so far', async () => {
    const table = await freshTable()
    const depths: number[] = []
    const queue = new GroupCommitQueue<Item>({
      write: (batch) => insertItems(db, table, batch),
      onDepthChange: (depth) => depths.push(depth),
    })
    for (let seq = 0; seq < 25; seq++) void queue.push({ id: randomUUID(), seq })
    expect(queue.depth).toBe(25)
    await queue.flush()
    expect(queue.depth).toBe(0)
    expect(Math.max(...depths)).toBe(25)
    expect(depths.at(-1)).toBe(0)
    expect((await countRows(table)).total).toBe(25)
    await queue.close()
  })

  it('a throwing callback neither refuses an item nor leaves a committed batch pending', async () => {
    const table = await freshTable()
    const queue = new GroupCommitQueue<Item>({
      write: (batch) => insertItems(db, table, batch),
      onDepthChange: () => { throw new Error('depth callback failed') },
      onCommitted: () => { throw new Error('commit callback failed') },
    })
    const pushes = Array.from({ length: 10 }, (_, seq) => queue.push({ id: randomUUID(), seq }))
    await Promise.all(pushes)
    expect(queue.depth).toBe(0)
    expect((await countRows(table)).total).toBe(10)
    await queue.close({ timeoutMs: 1000 })
  })

  it('close() flushes everything accepted, then refuses new items', async () => {
    const table = await freshTable()
    const queue = new GroupCommitQueue<Item>({ maxBatchSize: 10, write: (batch) => insertItems(db, table, batch) })
    const pending = Array.from({ length: 95 }, (_, seq) => queue.push({ id: randomUUID(), seq }))
    await queue.close()
    expect((await countRows(table)).total).toBe(95)
    await expect(Promise.all(pending)).resolves.toBeDefined()
    await expect(queue.push({ id: randomUUID(), seq: 96 })).rejects.toBeInstanceOf(QueueClosedError)
  })

  it('close() keeps retrying until its deadline, then rejects what is unwritten and logs how many', async () => {
    const logged: Array<{ obj: any; msg?: string }> = []
    const queue = new GroupCommitQueue<Item>({
      retryBaseMs: 5,
      retryMaxMs: 10,
      name: '@opskit/test',
      logger: { error: (obj, msg) => logged.push({ obj, msg }) },
      write: async () => { throw new Error('database is down') },
    })
    const pending = Array.from({ length: 12 }, (_, seq) => queue.push({ id: randomUUID(), seq }))
    await queue.close({ timeoutMs: 100 })
    const results = await Promise.allSettled(pending)
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof QueueClosedError)).toBe(true)
    expect(queue.depth).toBe(0)
    expect(logged).toHaveLength(1)
    expect(logged[0]!.obj.unwritten).toBe(12)
    expect(logged[0]!.msg).toContain('12 accepted items NOT written')
  })

  it('with maxConcurrentWrites, writes several batches at once and flush() still waits for an earlier, slower batch', async () => {
    const table = await freshTable()
    let inFlight = 0
    let maxInFlight = 0
    let releaseFirst!: () => void
    const firstGate = new Promise<void>((resolve) => { releaseFirst = resolve })
    let writes = 0
    const queue = new GroupCommitQueue<Item>({
      maxBatchSize: 5,
      maxConcurrentWrites: 3,
      write: async (batch) => {
        const n = ++writes
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        try {
          if (n === 1) await firstGate
          await insertItems(db, table, batch)
        } finally {
          inFlight--
        }
      },
    })
    const first = Array.from({ length: 5 }, (_, seq) => queue.push({ id: randomUUID(), seq }))
    const later = Array.from({ length: 10 }, (_, seq) => queue.push({ id: randomUUID(), seq: seq + 5 }))
    let flushed = false
    const flushing = queue.flush().then(() => { flushed = true })
    await Promise.all(later)
    expect(maxInFlight).toBe(3)
    expect(flushed).toBe(false)
    expect(queue.depth).toBe(5)
    releaseFirst()
    await Promise.all(first)
    await flushing
    expect(queue.depth).toBe(0)
    expect((await countRows(table)).total).toBe(15)
    await queue.close()
  })

  it('shares callers that await in step over the write slots: two batches of 50 in flight, in acceptance order, that do not keep shrinking', async () => {
    const table = await freshTable()
    const batches: number[][] = []
    let inFlight = 0
    let maxInFlight = 0
    const queue = new GroupCommitQueue<Item>({
      maxConcurrentWrites: 2,
      write: async (batch) => {
        batches.push(batch.map((item) => item.seq))
        maxInFlight = Math.max(maxInFlight, ++inFlight)
        try {
          await insertItems(db, table, batch)
        } finally {
          inFlight--
        }
      },
    })
    const accepted: number[] = []
    let seq = 0
    // 100 callers, each pushing its next item once the last is committed (5 rounds).
    await Promise.all(Array.from({ length: 100 }, async () => {
      for (let round = 0; round < 5; round++) {
        const item = { id: randomUUID(), seq: seq++ }
        accepted.push(item.seq)
        await queue.push(item)
      }
    }))
    expect(maxInFlight).toBe(2)
    // Each half of the callers forms the next batch while the other is written. Only once one half
    // is done (halves drift: one may finish a round or two early) is the other's rest shared out
    // again, into quarters at the least.
    expect(batches.filter((b) => b.length === 50).length).toBeGreaterThanOrEqual(6)
    expect(Math.min(...batches.map((b) => b.length))).toBeGreaterThanOrEqual(25)
    expect(batches.flat()).toEqual(accepted)
    expect(await countRows(table)).toEqual({ total: 500, distinct: 500 })
    await queue.close()
  })

  it('does not split a small group over the write slots (one INSERT for 10 items)', async () => {
    const table = await freshTable()
    const sizes: number[] = []
    const queue = new GroupCommitQueue<Item>({
      maxConcurrentWrites: 2,
      write: async (batch) => {
        sizes.push(batch.length)
        await insertItems(db, table, batch)
      },
    })
    await Promise.all(Array.from({ length: 10 }, (_, seq) => queue.push({ id: randomUUID(), seq })))
    expect(sizes).toEqual([10])
    await queue.close()
  })

  it('rejects invalid options', () => {
    expect(() => new GroupCommitQueue<Item>({ write: async () => {}, maxBatchSize: 0 })).toThrow(/maxBatchSize/)
    expect(() => new GroupCommitQueue<Item>({} as any)).toThrow(/write/)
  })
})

describe('GroupCommitQueue options', () => {
  it('refuses a missing write() or a bad number with FST_OPSKIT_STORE_INVALID_OPTION naming the option', () => {
    const write = async (): Promise<void> => undefined
    expect(() => new GroupCommitQueue({} as never)).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_STORE_INVALID_OPTION', message: expect.stringContaining('"write"') }))
    expect(() => new GroupCommitQueue({ write, maxBatchSize: 0 })).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_STORE_INVALID_OPTION', message: expect.stringContaining('"maxBatchSize"') }))
    expect(() => new GroupCommitQueue({ write, maxQueueSize: 1.5 })).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_STORE_INVALID_OPTION', message: expect.stringContaining('"maxQueueSize"') }))
  })
})
