// `node bench/audit.js [--records 50000] [--callers 100] [--throughput-rounds 3] [--calls 1000] [--rounds 20] [--burst 20000] [--concurrency N] [--no-limit]`
// (build first: `pnpm build`)
//
// Numbers for @opskit/audit, against DATABASE_URL when set, else embedded PGlite:
// 1. throughput: `--records` fastify.audit.record() calls (awaited) from `--callers` concurrent
//    callers, each call resolving only once its row is committed → rows/s, with the durable spool
//    off (goal ≥ 50,000) and on (in a temporary directory: every accepted event appended and
//    fsynced in groups beside its INSERT; goal ≥ 35,000), in alternating rounds (off, on, off, on…;
//    median of `--throughput-rounds`), and a check that exactly that many rows landed, each once;
// 2. the limit beside them: PostgreSQL alone taking the same rows, prebuilt (`bench/lib/write-limit.js`:
//    unnest and VALUES multi-row INSERTs, COPY through psql), unless `--no-limit` or on PGlite;
// 3. request-path cost: `--calls` non-awaited request.audit() calls timed inside one request
//    handler (one request context) → µs per call (goal < 5 µs), for a bare event and for an update
//    with before/after (diff + redaction done synchronously); `--rounds` such requests, the queue
//    drained between them as a running server's writer would, median reported. Also one `--burst`
//    of calls in a single request without draining (20,000 queued objects: GC-bound, shown for
//    honesty, not a goal).
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import { opskitCore } from '../packages/core/dist/index.js'
import { opskitAudit } from '../packages/audit/dist/index.js'
import { limitLines, writeLimit } from './lib/write-limit.js'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '50000' },
    callers: { type: 'string', default: '100' },
    calls: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '20' },
    burst: { type: 'string', default: '20000' },
    'throughput-rounds': { type: 'string', default: '3' },
    concurrency: { type: 'string' },
    'no-limit': { type: 'boolean', default: false },
  },
})
const THROUGHPUT_ROUNDS = Number(values['throughput-rounds'])
const RECORDS = Number(values.records)
const CALLERS = Number(values.callers)
const CALLS = Number(values.calls)
const ROUNDS = Number(values.rounds)
const BURST = Number(values.burst)
const DATABASE_URL = process.env.DATABASE_URL
const table = `audit_bench_${randomBytes(4).toString('hex')}`
const spoolTable = `${table}_spool`
const store = DATABASE_URL === undefined ? 'embedded PGlite (DATABASE_URL unset)' : `PostgreSQL ${new URL(DATABASE_URL).host}`

const queue = values.concurrency === undefined ? {} : { maxConcurrentWrites: Number(values.concurrency) }
const app = Fastify({ logger: { level: 'warn' } })
await app.register(opskitCore, { resolveActor: () => ({ id: 'bench-user', email: 'bench@example.com', role: 'admin' }) })
await app.register(opskitAudit, { connection: DATABASE_URL ?? { embedded: {} }, table, queue })
const spoolDir = await mkdtemp(join(tmpdir(), 'opskit-bench-spool-'))
const spooled = Fastify({ logger: { level: 'warn' } })
await spooled.register(opskitCore)
await spooled.register(opskitAudit, { connection: DATABASE_URL ?? { embedded: {} }, table: spoolTable, queue, spool: { dir: spoolDir } })
await spooled.ready()

const simple = { action: 'login', entityType: 'user', entityId: 'u-1' }
const update = {
  action: 'update', entityType: 'booking', entityId: 42, entityName: 'Room 5',
  before: { status: 'pending', amount: 10, guest: { name: 'Ann', nights: 2 }, note: 'late arrival' },
  after: { status: 'confirmed', amount: 12, guest: { name: 'Ann', nights: 2 }, note: 'late arrival' },
}
app.post('/per-call', async (request) => {
  const event = request.body.kind === 'update' ? update : simple
  const n = request.body.n
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) request.audit(event)
  const ns = Number(process.hrtime.bigint() - start)
  return { us: ns / n / 1000 }
})
await app.ready()

async function throughput(app) {
  const ctx = { actor: { id: 'bench-user', email: 'bench@example.com' }, ip: '10.1.2.3', userAgent: 'bench/1.0', path: '/bookings/42', requestId: 'bench' }
  let issued = 0
  const start = process.hrtime.bigint()
  await Promise.all(Array.from({ length: CALLERS }, async () => {
    while (issued < RECORDS) {
      issued++
      await app.audit.record(update, ctx)
    }
  }))
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return { seconds, rowsPerSecond: RECORDS / seconds }
}

async function requestPathCost(kind, n) {
  const res = await app.inject({ method: 'POST', url: '/per-call', payload: { kind, n } })
  if (res.statusCode !== 200) throw new Error(res.body)
  await app.audit.flush()
  return res.json().us
}

async function medianCost(kind) {
  const samples = []
  for (let r = 0; r < ROUNDS; r++) samples.push(await requestPathCost(kind, CALLS))
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]
}

const load = (await import('node:os')).loadavg()[0]
console.log(`@opskit/audit bench on ${store}, maxConcurrentWrites ${values.concurrency ?? 'default (2)'}, node ${process.version}, ${(await import('node:os')).cpus().length} CPUs, load average ${load.toFixed(2)}, tables ${table}, ${spoolTable} (spool ${spoolDir})`)
// Warm-up (JIT, pool connections) before anything is timed.
await requestPathCost('update', 2000)
await requestPathCost('simple', 2000)
await Promise.all(Array.from({ length: CALLERS }, () => app.audit.record(simple)))
await Promise.all(Array.from({ length: CALLERS }, () => spooled.audit.record(simple)))

const off = []
const on = []
for (let r = 0; r < THROUGHPUT_ROUNDS; r++) {
  off.push(await throughput(app))
  on.push(await throughput(spooled))
}
const median = (runs) => runs.map((x) => x.rowsPerSecond).sort((a, b) => a - b)[Math.floor(runs.length / 2)]
const perSimple = await medianCost('simple')
const perUpdate = await medianCost('update')
const burstSimple = await requestPathCost('simple', BURST)
const landed = (await app.audit.query({ limit: 1 })).total
const updates = (await app.audit.query({ action: 'update', limit: 1 })).total
const landedSpooled = (await spooled.audit.query({ limit: 1 })).total
await app.close()
await spooled.close()
const limit = DATABASE_URL === undefined || values['no-limit']
  ? []
  : await writeLimit({ url: DATABASE_URL, kind: 'audit', rows: RECORDS, modes: ['unnest 100×2', 'unnest 500×2', 'VALUES 100×2', 'COPY'] })

const ok = (pass) => (pass ? 'OK  ' : 'MISS')
console.log('')
console.log('| measure | value | goal |')
console.log('| --- | --- | --- |')
const rowsPerSecond = (x) => `${Math.round(x).toLocaleString('en-US')} rows/s`
const spread = (runs) => runs.map((x) => Math.round(x.rowsPerSecond / 1000)).join(' / ')
console.log(`| record() throughput, spool off, ${RECORDS} awaited calls from ${CALLERS} callers (median of ${THROUGHPUT_ROUNDS}: ${spread(off)} k) | ${rowsPerSecond(median(off))} | ${ok(median(off) >= 50_000)} ≥ 50,000 rows/s |`)
console.log(`| record() throughput, spool on, same calls, rounds alternating with spool off (${spread(on)} k) | ${rowsPerSecond(median(on))} | ${ok(median(on) >= 35_000)} ≥ 35,000 rows/s |`)
for (const line of limitLines(limit)) console.log(line)
console.log(`| non-awaited request.audit(), bare event (median of ${ROUNDS} requests × ${CALLS} calls) | ${perSimple.toFixed(2)} µs/call | ${ok(perSimple < 5)} < 5 µs |`)
console.log(`| non-awaited request.audit(), update with before/after (median of ${ROUNDS} × ${CALLS}) | ${perUpdate.toFixed(2)} µs/call | ${ok(perUpdate < 5)} < 5 µs |`)
console.log(`| burst: ${BURST} bare calls in one request, nothing drained | ${burstSimple.toFixed(2)} µs/call | (not a goal) |`)
const expected = CALLERS + 2 * 2000 + THROUGHPUT_ROUNDS * RECORDS + 2 * ROUNDS * CALLS + BURST
console.log(`rows in ${table}: ${landed} (expected ${expected}${landed === expected ? ', none lost, none twice' : ', MISMATCH'}); update rows: ${updates}`)
const expectedSpooled = CALLERS + THROUGHPUT_ROUNDS * RECORDS
console.log(`rows in ${spoolTable}: ${landedSpooled} (expected ${expectedSpooled}${landedSpooled === expectedSpooled ? ', none lost, none twice' : ', MISMATCH'})`)
console.log(`(figures from one run on this machine; ${(await import('node:os')).cpus().length} CPUs shared with PostgreSQL, load average ${(await import('node:os')).loadavg()[0].toFixed(2)} at the end)`)

await rm(spoolDir, { recursive: true, force: true })
// Leave the database as found.
if (DATABASE_URL !== undefined) {
  const pg = (await import('pg')).default
  const pool = new pg.Pool({ connectionString: DATABASE_URL })
  await pool.query(`DROP TABLE IF EXISTS ${table}`)
  await pool.query(`DROP TABLE IF EXISTS ${spoolTable}`)
  await pool.end()
}
