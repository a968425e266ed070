// The write path's limit: PostgreSQL itself taking the same rows the group commit writes, with no
// queue and no per-row JS in the timed part (rows are built before the clock starts). Used by
// `bench/audit.js` and `bench/security-log.js` (printed beside their goal lines) and runnable alone:
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/lib/write-limit.js [--rows 50000] [--table audit|security-log]
//
// Modes, each into a fresh copy of the real table (same columns, indexes and primary key):
// - `unnest B×C`: `INSERT ... SELECT * FROM unnest($1::uuid[], ...) ON CONFLICT (id) DO NOTHING`,
//   batches of B rows, C connections each sending its next batch as soon as the last committed;
// - `VALUES B×C`: the same rows as one multi-row `INSERT ... VALUES (...), (...)` per batch;
// - `COPY (psql \copy)`: `pg-copy-streams` is not installed, so COPY FROM STDIN is measured with
//   psql's `\copy` of the same rows from a CSV file (psql's start-up included: a slight underestimate).
import { spawnSync } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import pg from 'pg'

const AUDIT_TYPES = ['uuid', 'text', 'text', 'text', 'text', 'text', 'text', 'jsonb', 'jsonb', 'text', 'inet', 'text', 'text', 'text', 'timestamptz', 'text']
const SECURITY_TYPES = ['uuid', 'text', 'text', 'text', 'text', 'inet', 'text', 'text', 'text', 'jsonb', 'timestamptz', 'text']

/** The row `bench/audit.js` records (an update with before/after), as its column values. */
function auditRow() {
  return [
    randomUUID(), 'bench-user', 'bench@example.com', 'update', 'booking', '42', 'Room 5',
    '{"amount":10,"status":"pending"}', '{"amount":12,"status":"confirmed"}', 'status: "pending" → "confirmed", amount: 10 → 12',
    '10.1.2.3', 'bench/1.0', '/bookings/42', 'bench', new Date().toISOString(), null,
  ]
}

/** The row `bench/security-log.js` records. */
function securityRow(i) {
  return [randomUUID(), 'login_failure', 'warning', `u${i % 100}`, null, '203.0.113.1', null, '/login', null, JSON.stringify({ i }), new Date().toISOString(), null]
}

async function kinds() {
  const { auditTableSql } = await import('../../packages/audit/dist/index.js')
  const { securityLogMigration } = await import('../../packages/security-log/dist/index.js')
  return {
    audit: { ddl: auditTableSql, types: AUDIT_TYPES, // the column list is internal to audit (not exported): read from its built schema module
    columns: (await import('../../packages/audit/dist/schema.js')).AUDIT_COLUMNS, row: auditRow },
    'security-log': {
      ddl: securityLogMigration,
      types: SECURITY_TYPES,
      columns: ['id', 'action', 'severity', 'user_id', 'user_email', 'ip_address', 'user_agent', 'request_path', 'request_id', 'details', 'created_at', 'trace_id'],
      row: securityRow,
    },
  }
}

function unnestStatement(table, columns, types) {
  return `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')}) ON CONFLICT (id) DO NOTHING`
}

function valuesStatement(table, columns, types, rows) {
  const w = columns.length
  const groups = []
  for (let r = 0; r < rows; r++) groups.push(`(${types.map((t, c) => `$${r * w + c + 1}::${t}`).join(', ')})`)
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${groups.join(', ')} ON CONFLICT (id) DO NOTHING`
}

function toColumns(batch, width) {
  const cols = Array.from({ length: width }, () => new Array(batch.length))
  for (let i = 0; i < batch.length; i++) for (let c = 0; c < width; c++) cols[c][i] = batch[i][c]
  return cols
}

function csvField(v) {
  if (v === null) return ''
  return `"${String(v).replaceAll('"', '""')}"`
}

/**
 * Rows/s of each raw mode for `rows` rows of `kind` ('audit' | 'security-log'), on `url`.
 * Returns `[{ mode, rowsPerSecond }]`; `modes` picks which (default: all).
 */
export async function writeLimit({ url, kind = 'audit', rows = 50_000, modes } = {}) {
  const spec = (await kinds())[kind]
  const width = spec.columns.length
  const pool = new pg.Pool({ connectionString: url, max: 8 })
  const results = []
  const fresh = async () => {
    const table = `write_limit_${randomBytes(4).toString('hex')}`
    for (const statement of spec.ddl(table)) await pool.query(statement)
    return table
  }
  const drop = (table) => pool.query(`DROP TABLE IF EXISTS ${table}`)
  const make = () => Array.from({ length: rows }, (_, i) => spec.row(i))

  async function batched(mode, size, connections, statementFor, paramsFor) {
    const table = await fresh()
    const all = make()
    const batches = []
    for (let i = 0; i < all.length; i += size) batches.push(all.slice(i, i + size))
    const prepared = batches.map((b) => [statementFor(table, b.length), paramsFor(b)])
    let next = 0
    const start = process.hrtime.bigint()
    await Promise.all(Array.from({ length: connections }, async () => {
      const client = await pool.connect()
      try {
        while (next < prepared.length) {
          const [text, values] = prepared[next++]
          await client.query(text, values)
        }
      } finally {
        client.release()
      }
    }))
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    const { rows: [{ n }] } = await pool.query(`SELECT count(*)::int AS n FROM ${table}`)
    await drop(table)
    if (n !== rows) throw new Error(`${mode}: ${n} rows landed of ${rows}`)
    results.push({ mode, rowsPerSecond: rows / seconds })
  }

  const want = (name) => modes === undefined || modes.some((m) => name.startsWith(m))
  for (const [size, connections] of [[100, 1], [100, 2], [500, 2], [2000, 2]]) {
    const name = `unnest ${size}×${connections}`
    if (want(name)) await batched(name, size, connections, (t) => unnestStatement(t, spec.columns, spec.types), (b) => toColumns(b, width))
  }
  for (const [size, connections] of [[100, 2], [500, 2]]) {
    const name = `VALUES ${size}×${connections}`
    if (want(name)) await batched(name, size, connections, (t, n) => valuesStatement(t, spec.columns, spec.types, n), (b) => b.flat())
  }
  if (want('COPY')) {
    const table = await fresh()
    const dir = await mkdtemp(join(tmpdir(), 'opskit-write-limit-'))
    const file = join(dir, 'rows.csv')
    await writeFile(file, make().map((r) => r.map(csvField).join(',')).join('\n') + '\n')
    const start = process.hrtime.bigint()
    const psql = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qc', `\\copy ${table} (${spec.columns.join(', ')}) FROM '${file}' WITH (FORMAT csv)`], { encoding: 'utf8' })
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    await rm(dir, { recursive: true, force: true })
    if (psql.status === 0) {
      const { rows: [{ n }] } = await pool.query(`SELECT count(*)::int AS n FROM ${table}`)
      if (n !== rows) throw new Error(`COPY: ${n} rows landed of ${rows}`)
      results.push({ mode: 'COPY (psql \\copy)', rowsPerSecond: rows / seconds })
    } else {
      results.push({ mode: `COPY (psql \\copy) failed: ${(psql.stderr || psql.error?.message || '').trim()}`, rowsPerSecond: NaN })
    }
    await drop(table)
  }
  await pool.end()
  return results
}

/** `| raw limit: mode | rows/s |` lines. */
export function limitLines(results) {
  return results.map(({ mode, rowsPerSecond }) => `| raw limit (PostgreSQL alone, rows prebuilt): ${mode} | ${Number.isNaN(rowsPerSecond) ? '-' : `${Math.round(rowsPerSecond).toLocaleString('en-US')} rows/s`} | (the ceiling) |`)
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '50000' }, table: { type: 'string', default: 'audit' }, mode: { type: 'string', multiple: true } } })
  const url = process.env.DATABASE_URL
  if (url === undefined) throw new Error('DATABASE_URL is required (the limit is PostgreSQL\'s)')
  const results = await writeLimit({ url, kind: values.table, rows: Number(values.rows), modes: values.mode })
  console.log(`${values.rows} ${values.table} rows into PostgreSQL ${new URL(url).host}, load average ${(await import('node:os')).loadavg()[0].toFixed(2)}`)
  for (const line of limitLines(results)) console.log(line)
}
