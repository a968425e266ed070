import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '@opskit/logging'
import { pino } from 'pino'
import { BoundedStdout, STDOUT_BUFFER_LIMIT } from '../src/destination.js'

let dir: string | undefined
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

describe('stdout buffer bound (50k-line burst)', () => {
  it('a 25 MB burst holds at most STDOUT_BUFFER_LIMIT bytes, drops the rest, and says how many with a marker line', async () => {
    dir = mkdtempSync(join(tmpdir(), 'opskit-stdout-'))
    const path = join(dir, 'stdout.log')
    // A file written asynchronously behaves like stdout here: nothing leaves the buffer until the
    // synchronous burst yields to the event loop, however fast the reader.
    const stream = new BoundedStdout({ dest: path, name: 'shop' })
    const line = JSON.stringify({ timestamp: new Date().toISOString(), level: 'INFO', logger: 'shop', message: 'request completed', pad: 'x'.repeat(420) }) + '\n'
    const total = 50_000
    let peak = 0
    for (let i = 0; i < total; i++) {
      stream.write(line)
      if (stream.bufferedBytes > peak) peak = stream.bufferedBytes
    }
    expect(line.length * total).toBeGreaterThan(3 * STDOUT_BUFFER_LIMIT) // the burst really is ~25 MB
    expect(peak).toBeLessThanOrEqual(STDOUT_BUFFER_LIMIT)
    const dropped = stream.droppedLines
    expect(dropped).toBeGreaterThan(0)

    await stream.whenDrained()
    const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
    const markers = lines.filter((l) => l.message === `${dropped} log lines dropped`)
    expect(markers).toEqual([{ timestamp: expect.any(String), level: 'WARN', logger: 'shop', message: `${dropped} log lines dropped`, dropped_lines: dropped }])
    expect(lines.length - 1 + dropped).toBe(total) // every line is either written or counted
    // after the drain, lines flow again and nothing more is dropped
    stream.write(line)
    await stream.whenDrained()
    expect(readFileSync(path, 'utf8').split('\n').filter((l) => l !== '')).toHaveLength(lines.length + 1)
    stream.end()
  })

  it('is what a JSON logger writes stdout through', () => {
    const logger = createLogger({ format: 'json' }) as unknown as Record<symbol, unknown>
    expect(logger[pino.symbols.streamSym]).toBeInstanceOf(BoundedStdout)
  })
})
