import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises'
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
})
