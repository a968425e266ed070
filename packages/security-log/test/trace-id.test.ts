import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { securityLogMigration } from '@opskit/security-log'
import { buildApp, DATABASE_URL, dropTables, STORE, uniqueName } from './helpers.js'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const tables: string[] = []
const dirs: string[] = []
let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})
afterAll(async () => {
  await dropTables(tables)
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** A database the test prepares before the plugin opens it: the real server, or PGlite on disk. */
async function preparedDatabase(): Promise<{ connection: string | { embedded: { dataDir: string } }; query<R>(text: string, params?: unknown[]): Promise<R[]>; close(): Promise<void> }> {
  if (DATABASE_URL !== undefined) {
    const pool = new pg.Pool({ connectionString: DATABASE_URL })
    return { connection: DATABASE_URL, query: async (text, params) => (await pool.query(text, params)).rows, close: () => pool.end() }
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'opskit-seclog-'))
  dirs.push(dataDir)
  const db = await PGlite.create(dataDir)
  return { connection: { embedded: { dataDir } }, query: async (text, params) => (await db.query(text, params as unknown[])).rows as never[], close: () => db.close() }
}

describe(`trace_id on security_logs rows (${STORE})`, () => {
  it('a table made by the first-edition migration gains trace_id, keeps its rows, and a traced request\'s event carries the trace id', async () => {
    const table = uniqueName('security_logs')
    tables.push(table)
    let db = await preparedDatabase()
    for (const statement of securityLogMigration(table).filter((s) => !s.includes('trace_id'))) await db.query(statement)
    for (let i = 0; i < 3; i++) {
      await db.query(`INSERT INTO "${table}" (id, action, severity, request_id) VALUES (gen_random_uuid(), 'login_failure', 'warning', $1)`, [`old-${i}`])
    }
    if (DATABASE_URL === undefined) await db.close()

    app = await buildApp({ connection: db.connection, table, autoCapture: false }, {
      setup: (a) => {
        a.post('/login', async () => a.securityLog.record({ action: 'login_failure' }))
      },
    })
    const traced = await app.inject({ method: 'POST', url: '/login', headers: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` } })
    expect(traced.json()).toMatchObject({ action: 'login_failure', trace_id: TRACE_ID })
    const plain = await app.inject({ method: 'POST', url: '/login' })
    expect(plain.json().trace_id).toBeNull()
    await app.close()
    app = undefined

    if (DATABASE_URL === undefined) db = await preparedDatabaseAt(db.connection as { embedded: { dataDir: string } })
    const rows = await db.query<{ request_id: string; trace_id: string | null }>(`SELECT request_id, trace_id FROM "${table}" ORDER BY request_id`)
    await db.close()
    expect(rows).toHaveLength(5)
    expect(rows.filter((r) => r.request_id.startsWith('old-')).map((r) => r.trace_id)).toEqual([null, null, null])
    expect(rows.filter((r) => !r.request_id.startsWith('old-')).map((r) => r.trace_id).sort()).toEqual([TRACE_ID, null].sort())
  })
})

async function preparedDatabaseAt(connection: { embedded: { dataDir: string } }) {
  const db = await PGlite.create(connection.embedded.dataDir)
  return { connection, query: async <R>(text: string, params?: unknown[]) => (await db.query(text, params as unknown[])).rows as R[], close: () => db.close() }
}
