import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTcpProxy, type TcpProxy } from '../../../test-utils/fault-proxy.js'
import { DATABASE_URL } from './helpers.js'

if (DATABASE_URL === undefined) console.info('[@opskit/audit tests] DATABASE_URL unset: the spool SIGKILL test (a child process behind a TCP proxy) is skipped')

const root = fileURLToPath(new URL('../../..', import.meta.url))
const child = fileURLToPath(new URL('./spool-child.mjs', import.meta.url))

/** Lines of the child's stdout, awaited one by one. */
function lines(proc: ChildProcess): () => Promise<string> {
  const queue: string[] = []
  const waiting: Array<(line: string) => void> = []
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) return // a log line
    const next = waiting.shift()
    if (next === undefined) queue.push(line)
    else next(line)
  })
  return () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve)))
}

/** Entries on disk: each whole line is a group, `{"group":[…]}`. */
async function spooledEntries(dir: string): Promise<number> {
  let n = 0
  for (const file of await readdir(dir)) {
    if (!file.endsWith('.jsonl')) continue
    for (const line of (await readFile(join(dir, file), 'utf8')).split('\n')) {
      if (line.length === 0) continue
      try {
        n += (JSON.parse(line) as { group: unknown[] }).group.length
      } catch {
        // a group still being written
      }
    }
  }
  return n
}

describe.skipIf(DATABASE_URL === undefined)('audit spool: SIGKILL during a PostgreSQL outage', () => {
  const direct = new pg.Pool({ connectionString: DATABASE_URL })
  const table = `audit_spool_${randomBytes(5).toString('hex')}`
  let proxy: TcpProxy
  let dir: string
  const children: ChildProcess[] = []

  beforeAll(async () => {
    // The child runs the built packages (plain node cannot load the TypeScript sources).
    execFileSync('npx', ['tsc', '-b', 'packages/audit'], { cwd: root, stdio: 'inherit' })
    proxy = await startTcpProxy(DATABASE_URL!)
    dir = await mkdtemp(join(tmpdir(), 'opskit-audit-spool-'))
  }, 120_000)
  afterAll(async () => {
    for (const proc of children) if (proc.exitCode === null) proc.kill('SIGKILL')
    await direct.query(`DROP TABLE IF EXISTS ${table}`)
    await direct.end()
    await proxy?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('every event accepted before the SIGKILL is in the table exactly once after the restart, and the spool is empty', async () => {
    const env = { ...process.env, DATABASE_URL: proxy.url(DATABASE_URL!), TABLE: table, SPOOL_DIR: dir }
    const first = spawn(process.execPath, [child], { env: { ...env, PHASE: 'accept' }, stdio: ['pipe', 'pipe', 'inherit'] })
    children.push(first)
    const next = lines(first)
    expect(await next()).toBe('ready')
    proxy.refuse()
    const during = 5000
    first.stdin!.write(`go ${during}\n`)
    expect(await next()).toBe(`accepted ${during}`)
    // Accepted means on disk: wait for the group fsyncs, then kill it mid-outage.
    await expect.poll(() => spooledEntries(dir), { timeout: 20_000 }).toBeGreaterThanOrEqual(during)
    const exited = new Promise((resolve) => first.on('exit', resolve))
    first.kill('SIGKILL')
    await exited
    const before = await direct.query(`SELECT count(*)::int AS n FROM ${table}`)
    expect(before.rows[0].n).toBe(20)

    proxy.pass()
    const second = spawn(process.execPath, [child], { env: { ...env, PHASE: 'replay' }, stdio: ['ignore', 'pipe', 'inherit'] })
    children.push(second)
    expect(await lines(second)()).toBe('closed')
    const { rows } = await direct.query(`SELECT count(*)::int AS total, count(DISTINCT id)::int AS ids, count(DISTINCT entity_id)::int AS entities FROM ${table}`)
    expect(rows[0]).toEqual({ total: 20 + during, ids: 20 + during, entities: 20 + during })
    expect((await readdir(dir)).filter((f) => f.endsWith('.jsonl'))).toEqual([])
  }, 120_000)
})
