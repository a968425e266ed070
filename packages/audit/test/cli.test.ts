import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASE_URL, buildApp, openTestDb, uniqueTable, type TestDb } from './helpers.js'

const run = promisify(execFile)
const packageDir = fileURLToPath(new URL('..', import.meta.url))
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

if (DATABASE_URL === undefined) console.info('[@opskit/audit tests] DATABASE_URL unset: the opskit-audit CLI tests (a child process against PostgreSQL) are skipped')

/** Runs `node dist/cli.js ...args`; resolves with its exit code and output. */
async function opskitAudit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args])
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe.skipIf(DATABASE_URL === undefined)('opskit-audit verify (the CLI, as a child process, against PostgreSQL)', () => {
  let db: TestDb
  const table = uniqueTable()

  beforeAll(async () => {
    // The bin runs the compiled package: build it (and what it depends on) first.
    await run(process.execPath, [fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url)), '-b', packageDir])
    db = await openTestDb()
    const app = await buildApp({ connection: db.connection, table, chain: true })
    for (let i = 0; i < 5; i++) await app.audit.record({ action: 'update', entityType: 'booking', entityId: i, before: { n: i }, after: { n: i + 1 } })
    await app.close()
  }, 180_000)
  afterAll(async () => {
    await db?.query(`DROP TABLE IF EXISTS ${table}`)
    await db?.close()
  })

  it('prints { ok, checked } and exits 0 on an intact chain, 1 with firstBad once a row is altered, and checks --anchor', async () => {
    const intact = await opskitAudit(['verify', '--database-url', DATABASE_URL!, '--schema', 'public', '--table', table])
    expect(intact).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(intact.stdout)).toEqual({ ok: true, checked: 5 })

    const [head] = await db.query(`SELECT hash FROM ${table} ORDER BY chain_seq DESC LIMIT 1`)
    const anchored = await opskitAudit(['verify', '--database-url', DATABASE_URL!, '--table', table, '--anchor', head.hash])
    expect(anchored.code).toBe(0)

    const [victim] = await db.query(`SELECT id::text FROM ${table} WHERE chain_seq = 2`)
    await db.query(`UPDATE ${table} SET user_id = 'someone-else' WHERE id = $1`, [victim.id])
    const altered = await opskitAudit(['verify', '--database-url', DATABASE_URL!, '--table', table])
    expect(altered.code).toBe(1)
    expect(JSON.parse(altered.stdout)).toEqual({ ok: false, checked: 1, firstBad: { id: victim.id, reason: 'altered: the row does not match its hash' } })

    await db.query(`DELETE FROM ${table} WHERE chain_seq >= 2`)
    const tail = await opskitAudit(['verify', '--database-url', DATABASE_URL!, '--table', table, '--anchor', head.hash])
    expect(tail.code).toBe(1)
    expect(JSON.parse(tail.stdout)).toMatchObject({ ok: false, checked: 1, firstBad: { id: null } })
  })

  it('exits 2 with the usage on a bad command line or an unreachable database', async () => {
    const usage = await opskitAudit(['check'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('usage: opskit-audit verify --database-url <url>')
    const bad = await opskitAudit(['verify', '--database-url', DATABASE_URL!, '--table', 'x;drop'])
    expect(bad.code).toBe(2)
    const down = await opskitAudit(['verify', '--database-url', 'postgres://postgres@127.0.0.1:1/none', '--table', table])
    expect(down.code).toBe(2)
    expect(down.stderr).toMatch(/^opskit-audit: /)
  })
})
