// Burst bench for @opskit/security-log: 10,000 events from 100 concurrent callers, each awaiting
// its event's commit, against the same PostgreSQL table written the hand-rolled way (one awaited
// INSERT per event on a pg.Pool, what audit code usually does), and the plugin again with the
// durable spool on (`spool: { dir }` in a temporary directory). Rounds alternate A B C A B C.
// Then the goal lines (group commit ≥ 50,000 events/s with the spool off, ≥ 35,000 with it on)
// and, beside them, PostgreSQL's own limit for the same rows prebuilt (`bench/lib/write-limit.js`).
//
//   pnpm build && DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/security-log.js [events] [callers] [rounds]
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os, { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import pg from 'pg'
import { opskitCore } from '../packages/core/dist/index.js'
import { opskitSecurityLog, securityLogMigration } from '../packages/security-log/dist/index.js'
import { limitLines, writeLimit } from './lib/write-limit.js'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const EVENTS = Number(process.argv[2] ?? 10_000)
const CALLERS = Number(process.argv[3] ?? 100)
const ROUNDS = Number(process.argv[4] ?? 3)
const table = `security_logs_bench_${randomBytes(4).toString('hex')}`

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function burst(recordOne) {
  const latencies = []
  let next = 0
  const start = process.hrtime.bigint()
  await Promise.all(Array.from({ length: CALLERS }, async (_, caller) => {
    while (next < EVENTS) {
      const i = next++
      const t0 = process.hrtime.bigint()
      await recordOne(i, caller)
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
  }))
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  latencies.sort((a, b) => a - b)
  return { perSecond: EVENTS / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 })
for (const statement of securityLogMigration(table)) await pool.query(statement)

const app = Fastify({ logger: false })
await app.register(opskitCore)
await app.register(opskitSecurityLog, { connection: pool, table, migrate: false })
await app.ready()
const spoolDir = await mkdtemp(join(tmpdir(), 'opskit-bench-security-spool-'))
const spooled = Fastify({ logger: false })
await spooled.register(opskitCore)
await spooled.register(opskitSecurityLog, { connection: pool, table, migrate: false, spool: { dir: spoolDir } })
await spooled.ready()

const contenders = {
  'opskit (group commit)': (i, caller) =>
    app.securityLog.record({ action: 'login_failure', userId: `u${caller}`, details: { i } }, { ip: '203.0.113.1', requestPath: '/login' }),
  'opskit (group commit + spool)': (i, caller) =>
    spooled.securityLog.record({ action: 'login_failure', userId: `u${caller}`, details: { i } }, { ip: '203.0.113.1', requestPath: '/login' }),
  'hand-written INSERT per event': (i, caller) =>
    pool.query(
      `INSERT INTO "${table}" (id, action, severity, user_id, ip_address, request_path, details) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [randomUUID(), 'login_failure', 'warning', `u${caller}`, '203.0.113.1', '/login', JSON.stringify({ i })],
    ),
}

const results = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, recordOne] of Object.entries(contenders)) results[name].push(await burst(recordOne))
}
const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${table}"`)
const expected = EVENTS * ROUNDS * Object.keys(contenders).length

console.log(`${EVENTS} events, ${CALLERS} concurrent callers, ${ROUNDS} rounds, PostgreSQL pool of 10 (median round):`)
const median = (xs, key) => xs.map((x) => x[key]).sort((a, b) => a - b)[Math.floor(xs.length / 2)]
for (const [name, runs] of Object.entries(results)) {
  console.log(`  ${name.padEnd(32)} ${Math.round(median(runs, 'perSecond')).toString().padStart(8)} events/s   p50 ${median(runs, 'p50').toFixed(1)} ms   p99 ${median(runs, 'p99').toFixed(1)} ms`)
}
console.log(`  rows in the table: ${rows[0].n} of ${expected} ${rows[0].n === expected ? '(all landed)' : '(MISSING ROWS)'}`)

const ok = (pass) => (pass ? 'OK  ' : 'MISS')
const off = median(results['opskit (group commit)'], 'perSecond')
const on = median(results['opskit (group commit + spool)'], 'perSecond')
const limit = await writeLimit({ url: DATABASE_URL, kind: 'security-log', rows: Math.max(EVENTS, 20_000), modes: ['unnest 100×2', 'VALUES 100×2', 'VALUES 500×2', 'COPY'] })
console.log('')
console.log('| measure | value | goal |')
console.log('| --- | --- | --- |')
console.log(`| record() throughput, spool off, ${EVENTS} awaited events from ${CALLERS} callers (median of ${ROUNDS}) | ${Math.round(off).toLocaleString('en-US')} events/s | ${ok(off >= 50_000)} ≥ 50,000 events/s |`)
console.log(`| record() throughput, spool on (same rounds, interleaved) | ${Math.round(on).toLocaleString('en-US')} events/s | ${ok(on >= 35_000)} ≥ 35,000 events/s |`)
for (const line of limitLines(limit)) console.log(line)
console.log(`(one run on this machine: ${os.cpus().length} CPUs shared with PostgreSQL, load average ${os.loadavg()[0].toFixed(2)} at the end)`)

await app.close()
await spooled.close()
await rm(spoolDir, { recursive: true, force: true })
await pool.query(`DROP TABLE IF EXISTS "${table}"`)
await pool.end()
