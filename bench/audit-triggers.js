// `node bench/audit-triggers.js [--rows 20000] [--records 20000] [--callers 100] [--rounds 3]`
// (build first: `pnpm build`)
//
// Two comparisons for @opskit/audit, against DATABASE_URL when set, else embedded PGlite; the two
// sides run in alternating rounds (A B A B ...) so drift on a shared machine hits both alike:
// 1. trigger capture: one `UPDATE t SET amount = amount + 1` of `--rows` rows with the
//    fastify.audit.track() triggers off, then on (every row stamped and audited in the same
//    transaction) → rows/s each, and the cost of the triggers;
// 2. the chain: `--records` awaited fastify.audit.record() calls from `--callers` callers into a
//    table with chain: false, then chain: true → rows/s each (goal: the chain costs ≤ 30 %), and a
//    verify() of the chained table at the end.
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { PGlite } from '@electric-sql/pglite'
import Fastify from 'fastify'
import pg from 'pg'
import { opskitCore } from '../packages/core/dist/index.js'
import { auditableColumnsSql, opskitAudit } from '../packages/audit/dist/index.js'

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '20000' },
    records: { type: 'string', default: '20000' },
    callers: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
  },
})
const ROWS = Number(values.rows)
const RECORDS = Number(values.records)
const CALLERS = Number(values.callers)
const ROUNDS = Number(values.rounds)
const DATABASE_URL = process.env.DATABASE_URL
const suffix = randomBytes(4).toString('hex')
const connection = DATABASE_URL === undefined ? await PGlite.create() : new pg.Pool({ connectionString: DATABASE_URL, max: 10 })
const query = async (text, params) => (await connection.query(text, params)).rows
const store = DATABASE_URL === undefined ? 'embedded PGlite (DATABASE_URL unset)' : `PostgreSQL ${new URL(DATABASE_URL).host}`

async function app(table, chain) {
  const server = Fastify({ logger: { level: 'warn' } })
  await server.register(opskitCore)
  await server.register(opskitAudit, { connection, table, chain })
  await server.ready()
  return server
}

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (n) => Math.round(n).toLocaleString('en-US')

console.log(`@opskit/audit trigger and chain bench on ${store}, node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(2)}`)

// 1. Trigger capture.
const items = `bench_items_${suffix}`
const captureTable = `bench_capture_${suffix}`
const capture = await app(captureTable, false)
await query(`CREATE TABLE ${items} (id int PRIMARY KEY, status text, amount int, ${auditableColumnsSql})`)
await query(`INSERT INTO ${items} (id, status, amount) SELECT g, 'pending', 0 FROM generate_series(1, ${ROWS}) g`)
const off = []
const on = []
for (let round = 0; round < ROUNDS; round++) {
  await capture.audit.untrack(items)
  let start = process.hrtime.bigint()
  await query(`UPDATE ${items} SET amount = amount + 1`)
  off.push(ROWS / seconds(start))
  await capture.audit.track(items)
  start = process.hrtime.bigint()
  await query(`UPDATE ${items} SET amount = amount + 1`)
  on.push(ROWS / seconds(start))
}
const audited = (await query(`SELECT count(*)::int AS n FROM ${captureTable} WHERE action = 'update'`))[0].n
await capture.close()

// 2. The chain.
async function throughput(server) {
  const event = { action: 'update', entityType: 'booking', entityId: 42, before: { status: 'pending', amount: 10 }, after: { status: 'confirmed', amount: 12 } }
  const ctx = { actor: { id: 'bench-user' }, ip: '10.1.2.3', path: '/bookings/42', requestId: 'bench' }
  let issued = 0
  const start = process.hrtime.bigint()
  await Promise.all(Array.from({ length: CALLERS }, async () => {
    while (issued < RECORDS) {
      issued++
      await server.audit.record(event, ctx)
    }
  }))
  return RECORDS / seconds(start)
}
const plainTable = `bench_plain_${suffix}`
const chainTable = `bench_chain_${suffix}`
const plain = await app(plainTable, false)
const chained = await app(chainTable, true)
await throughput(plain)
await throughput(chained)
const plainRates = []
const chainRates = []
for (let round = 0; round < ROUNDS; round++) {
  plainRates.push(await throughput(plain))
  chainRates.push(await throughput(chained))
}
const verifyStart = process.hrtime.bigint()
const verified = await chained.audit.verify()
const verifySeconds = seconds(verifyStart)
await plain.close()
await chained.close()

const cost = (a, b) => `${((1 - b / a) * 100).toFixed(0)} %`
const chainCost = 1 - median(chainRates) / median(plainRates)
console.log('')
console.log('| measure | off | on | cost |')
console.log('| --- | --- | --- | --- |')
console.log(`| UPDATE of ${ROWS} rows, track() triggers (median of ${ROUNDS}) | ${fmt(median(off))} rows/s | ${fmt(median(on))} rows/s | ${cost(median(off), median(on))} |`)
console.log(`| record() throughput, ${RECORDS} awaited calls from ${CALLERS} callers, chain (median of ${ROUNDS}) | ${fmt(median(plainRates))} rows/s | ${fmt(median(chainRates))} rows/s | ${cost(median(plainRates), median(chainRates))} ${chainCost <= 0.3 ? 'OK  ' : 'MISS'} ≤ 30 % |`)
console.log(`audit rows written by the triggers: ${audited} (expected ${ROUNDS * ROWS}${audited === ROUNDS * ROWS ? ', none missed' : ', MISMATCH'}); verify() of the chained table: ${JSON.stringify(verified)} in ${verifySeconds.toFixed(2)} s`)

for (const t of [items, captureTable, plainTable, chainTable]) await query(`DROP TABLE IF EXISTS ${t}`)
await connection.end?.()
await connection.close?.()
