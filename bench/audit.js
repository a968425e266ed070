// `node bench/audit.js [--records 50000] [--callers 100] [--calls 1000] [--rounds 20] [--burst 20000] [--concurrency N] [--spool]`
// (`--spool`: the durable spool on, in a temporary directory: every accepted event is appended and
// fsynced in groups before its INSERT; run once with and once without to compare)
// (build first: `pnpm build`)
//
// Two numbers for @opskit/audit, against DATABASE_URL when set, else embedded PGlite:
// 1. throughput: `--records` fastify.audit.record() calls (awaited) from `--callers` concurrent
//    callers, each call resolving only once its row is committed → rows/s (goal ≥ 20,000), and a
//    check that exactly that many rows landed;
// 2. request-path cost: `--calls` non-awaited request.audit() calls timed inside one request
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

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '50000' },
    callers: { type: 'string', default: '100' },
    calls: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '20' },
    burst: { type: 'string', default: '20000' },
    concurrency: { type: 'string' },
    spool: { type: 'boolean', default: false },
  },
})
const RECORDS = Number(values.records)
const CALLERS = Number(values.callers)
const CALLS = Number(values.calls)
const ROUNDS = Number(values.rounds)
const BURST = Number(values.burst)
const DATABASE_URL = process.env.DATABASE_URL
const table = `audit_bench_${randomBytes(4).toString('hex')}`
const store = DATABASE_URL === undefined ? 'embedded PGlite (DATABASE_URL unset)' : `PostgreSQL ${new URL(DATABASE_URL).host}`

const app = Fastify({ logger: { level: 'warn' } })
await app.register(opskitCore, { resolveActor: () => ({ id: 'bench-user', email: 'bench@example.com', role: 'admin' }) })
const queue = values.concurrency === undefined ? {} : { maxConcurrentWrites: Number(values.concurrency) }
const spoolDir = values.spool ? await mkdtemp(join(tmpdir(), 'opskit-bench-spool-')) : undefined
await app.register(opskitAudit, { connection: DATABASE_URL ?? { embedded: {} }, table, queue, ...(spoolDir === undefined ? {} : { spool: { dir: spoolDir } }) })

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

async function throughput() {
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
console.log(`@opskit/audit bench on ${store}, maxConcurrentWrites ${values.concurrency ?? 'default (2)'}, spool ${spoolDir === undefined ? 'off' : `on (${spoolDir})`}, node ${process.version}, ${(await import('node:os')).cpus().length} CPUs, load average ${load.toFixed(2)}, table ${table}`)
// Warm-up (JIT, pool connections) before anything is timed.
await requestPathCost('update', 2000)
await requestPathCost('simple', 2000)
await Promise.all(Array.from({ length: CALLERS }, () => app.audit.record(simple)))

const t = await throughput()
const perSimple = await medianCost('simple')
const perUpdate = await medianCost('update')
const burstSimple = await requestPathCost('simple', BURST)
const landed = (await app.audit.query({ limit: 1 })).total
const updates = (await app.audit.query({ action: 'update', limit: 1 })).total

const ok = (pass) => (pass ? 'OK  ' : 'MISS')
console.log('')
console.log('| measure | value | goal |')
console.log('| --- | --- | --- |')
console.log(`| record() throughput, ${RECORDS} awaited calls from ${CALLERS} callers | ${Math.round(t.rowsPerSecond).toLocaleString('en-US')} rows/s (${t.seconds.toFixed(2)} s) | ${ok(t.rowsPerSecond >= 20_000)} ≥ 20,000 rows/s |`)
console.log(`| non-awaited request.audit(), bare event (median of ${ROUNDS} requests × ${CALLS} calls) | ${perSimple.toFixed(2)} µs/call | ${ok(perSimple < 5)} < 5 µs |`)
console.log(`| non-awaited request.audit(), update with before/after (median of ${ROUNDS} × ${CALLS}) | ${perUpdate.toFixed(2)} µs/call | ${ok(perUpdate < 5)} < 5 µs |`)
console.log(`| burst: ${BURST} bare calls in one request, nothing drained | ${burstSimple.toFixed(2)} µs/call | (not a goal) |`)
const expected = CALLERS + 2 * 2000 + RECORDS + 2 * ROUNDS * CALLS + BURST
console.log(`rows in ${table}: ${landed} (expected ${expected}${landed === expected ? ', none lost, none twice' : ', MISMATCH'}); update rows: ${updates}`)

await app.close()
if (spoolDir !== undefined) await rm(spoolDir, { recursive: true, force: true })
// Leave the database as found.
if (DATABASE_URL !== undefined) {
  const pg = (await import('pg')).default
  const pool = new pg.Pool({ connectionString: DATABASE_URL })
  await pool.query(`DROP TABLE IF EXISTS ${table}`)
  await pool.end()
}
