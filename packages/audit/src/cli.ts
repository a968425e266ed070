#!/usr/bin/env node
import { parseArgs } from 'node:util'
import pg from 'pg'
import { isValidIdent } from '@opskit/store'
import { verifyChain, type VerifyResult } from './verify.js'

const USAGE = `usage: opskit-audit verify --database-url <url> [--schema <s>] [--table <t>] [--anchor <hash>] [--from <iso date>]

Checks the hash chain of an audit table written with chain: true. Prints { ok, checked, firstBad? }
as JSON; exits 0 when the chain is intact, 1 when it is not, 2 on a usage or connection error.
--database-url defaults to DATABASE_URL; --table to audit_logs.`

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[], out: (line: string) => void, err: (line: string) => void): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  let positionals: string[]
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'database-url': { type: 'string' },
        schema: { type: 'string' },
        table: { type: 'string', default: 'audit_logs' },
        anchor: { type: 'string' },
        from: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (error) {
    err(`${(error as Error).message}\n${USAGE}`)
    return 2
  }
  if (values.help === true) {
    out(USAGE)
    return 0
  }
  if (positionals.length !== 1 || positionals[0] !== 'verify') {
    err(USAGE)
    return 2
  }
  const url = (values['database-url'] as string | undefined) ?? process.env.DATABASE_URL
  if (url === undefined || url === '') {
    err(`--database-url is required\n${USAGE}`)
    return 2
  }
  const table = values.schema === undefined ? String(values.table) : `${String(values.schema)}.${String(values.table)}`
  if (!isValidIdent(table)) {
    err(`invalid table ${JSON.stringify(table)}: expected a SQL identifier (and --schema without a dot in --table)`)
    return 2
  }
  const client = new pg.Client({ connectionString: url })
  let result: VerifyResult
  try {
    await client.connect()
    const opts: { anchor?: string; from?: string } = {}
    if (values.anchor !== undefined) opts.anchor = String(values.anchor)
    if (values.from !== undefined) opts.from = String(values.from)
    result = await verifyChain(client, table, opts)
  } catch (error) {
    err(`opskit-audit: ${(error as Error).message}`)
    return 2
  } finally {
    await client.end().catch(() => undefined)
  }
  out(JSON.stringify(result))
  return result.ok ? 0 : 1
}

// No top-level await (dist/ stays loadable by require(esm)).
void main(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`), (line) => process.stderr.write(`${line}\n`))
  .then((code) => { process.exitCode = code })
