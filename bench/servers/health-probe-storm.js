// `node bench/servers/health-probe-storm.js` (after `pnpm build`): a probe storm against /health/ready
// with a real PostgreSQL check (DATABASE_URL, else PGlite) must not become a database storm.
// Loads /health/ready with 100 connections for 5 s and prints req/s and how many `SELECT 1` reached
// the database (cacheMs 1000: about one per second; without the cache and the shared in-flight run it
// would be one per probe).
import autocannon from 'autocannon'
import Fastify from 'fastify'
import { opskitCore } from '../../packages/core/dist/index.js'
import { opskitHealth, postgresCheck } from '../../packages/health/dist/index.js'

let db
let close
if (process.env.DATABASE_URL) {
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 })
  db = pool
  close = () => pool.end()
} else {
  const { PGlite } = await import('@electric-sql/pglite')
  db = new PGlite()
  await db.waitReady
  close = () => db.close()
}
let queries = 0
const counted = { query: (sql) => (queries++, db.query(sql)) }

const app = Fastify({ logger: false })
await app.register(opskitCore)
await app.register(opskitHealth, { cacheMs: 1000, checks: { db: postgresCheck(counted) } })
await app.listen({ port: 0, host: '127.0.0.1' })
const { port } = app.server.address()

const seconds = 5
const result = await autocannon({ url: `http://127.0.0.1:${port}/health/ready`, connections: 100, duration: seconds })
// autocannon shares this process with the server: req/s here is not a throughput figure, the query count is the point.
console.log(`/health/ready probe storm (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}, load generator in-process): ${Math.round(result.requests.average)} req/s, non-2xx ${result.non2xx}`)
console.log(`${result.requests.total} probes → ${queries} SELECT 1 (goal: ≤ ${seconds + 1}, one per cacheMs)`)
await app.close()
await close()
process.exitCode = queries <= seconds + 1 ? 0 : 1
