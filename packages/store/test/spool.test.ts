import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Spool, SpoolLockedError } from '@opskit/store'

describe('Spool', () => {
  const dirs: string[] = []
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })
  const newDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'opskit-spool-'))
    dirs.push(dir)
    return dir
  }

  it('keeps what was appended and not settled for the next open (a line torn by a crash skipped), and deletes a file once it is all settled', async () => {
    const dir = await newDir()
    const first = await Spool.open({ dir }, 'events')
    const segment = await first.append([{ n: 1 }, { n: 2 }, { n: 3 }])
    first.settle(segment, 1)
    // The process dies here (no close); its last write was torn mid-line.
    await appendFile(segment.file, '{"n": 4, "tor')
    const second = await Spool.open({ dir }, 'other-name').catch((e: unknown) => e)
    expect(second).toBeInstanceOf(Spool)
    await expect(Spool.open({ dir }, 'events')).rejects.toBeInstanceOf(SpoolLockedError)
    await first.close(2)

    const next = await Spool.open({ dir }, 'events')
    const leftovers = await next.leftovers()
    // Settled entries are not tracked per line: the whole file replays, and ids make it exactly once.
    expect(leftovers.map((l) => l.entries)).toEqual([[{ n: 1 }, { n: 2 }, { n: 3 }]])
    next.settle(leftovers[0]!.segment, 3)
    await expect.poll(async () => (await readdir(dir)).filter((f) => f.startsWith('events-'))).toEqual([])
    await next.close(0)
    expect((await readdir(dir)).includes('events.lock')).toBe(false)
    await (second as Spool).close(0)
  })

  it('empties the active file in place once all it holds is settled: a crash after that replays only what came later', async () => {
    const dir = await newDir()
    const first = await Spool.open({ dir }, 'events')
    const a = await first.append([{ n: 1 }, { n: 2 }])
    first.settle(a, 2)
    expect((await stat(a.file)).size).toBe(0)
    const b = await first.append([{ n: 3 }])
    expect(b.file).toBe(a.file)
    // One line per group.
    expect(await readFile(b.file, 'utf8')).toBe('{"group":[{"n":3}]}\n')
    await first.close(1)

    const next = await Spool.open({ dir }, 'events')
    expect((await next.leftovers()).map((l) => l.entries)).toEqual([[{ n: 3 }]])
    await next.close(1)
  })

  it('replays files of earlier versions (one entry per line) beside group lines', async () => {
    const dir = await newDir()
    await writeFile(join(dir, 'events-000000000000001-1-000000.jsonl'), '["a",1]\n["b",2]\n')
    await writeFile(join(dir, 'events-000000000000002-1-000000.jsonl'), '{"group":[["c",3],["d",4]]}\n{"group":[["e",5]]}\n')
    const spool = await Spool.open({ dir }, 'events')
    expect((await spool.leftovers()).map((l) => l.entries)).toEqual([[['a', 1], ['b', 2]], [['c', 3], ['d', 4], ['e', 5]]])
    await spool.close(5)
  })
})
