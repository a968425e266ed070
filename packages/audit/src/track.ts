import { isValidIdent, quoteIdent, type Database, type Queryable } from '@opskit/store'
import { STAMP_COLUMNS } from './auditable-columns.js'
import { AuditTrackError } from './errors.js'
import {
  CAPTURE_TRIGGERS, CHAIN_TRIGGER, OLD_CAPTURE_TRIGGER, STAMP_TRIGGER, TRIGGER_VERSION, chainColumnsSql, chainFunctionSql, functionNames,
  normalizeKey, qualified, sqlLiteral, textArrayLiteral, triggerFunctionsSql, type AuditTarget, type FunctionSql,
} from './trigger-sql.js'

const VERSION_COMMENT = /^opskit-audit v(\d+)$/

interface TriggerRow { tgname: string; fn: string; args: string }

/**
 * Auditable records: the PL/pgSQL functions behind `track()` (versioned, replaced by a newer
 * opskit, never downgraded), the triggers on app tables, and the hash chain on the audit table.
 * Every change runs in one transaction under the audit table's migration lock.
 */
export class AuditableRecords {
  readonly #db: Database
  readonly #table: string
  readonly #extra: string[]
  #target: AuditTarget | null = null

  constructor(db: Database, auditTable: string, redact: string[] | undefined) {
    this.#db = db
    this.#table = auditTable
    this.#extra = [...new Set((redact ?? []).map(normalizeKey))]
  }

  /** Replaces trigger functions older than this opskit's; with `chain`, adds the hash chain. */
  migrate(chain: boolean): Promise<void> {
    return this.#locked(async (q, target) => {
      await this.#ensureFunctions(q, target)
      if (chain) await this.#ensureChain(q, target)
    })
  }

  /** Installs the triggers on `table` (idempotent: unchanged triggers are left alone). */
  track(table: string): Promise<void> {
    return this.#locked(async (q, target) => {
      const oid = await this.#tableOid(q, table, target)
      await this.#ensureFunctions(q, target)
      const names = functionNames(target)
      const columns = (await q.query(
        'SELECT attname FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum', [oid],
      )).rows.map((r: { attname: string }) => r.attname)
      const pk = (await q.query(
        `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
          WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`, [oid],
      )).rows.map((r: { attname: string }) => r.attname)
      const t = quoteIdent(table)
      const existing = await this.#triggers(q, oid)
      const captureArgs = [textArrayLiteral(pk), textArrayLiteral(this.#extra), textArrayLiteral(columns)]
      const capture = quoteIdent(`${target.schema}.${names.capture}`)
      for (const [event, { name, referencing }] of Object.entries(CAPTURE_TRIGGERS)) {
        await this.#ensureTrigger(q, existing, name, `${target.schema}.${names.capture}`, captureArgs,
          `CREATE TRIGGER ${name} AFTER ${event} ON ${t} REFERENCING ${referencing} FOR EACH STATEMENT EXECUTE FUNCTION ${capture}(${captureArgs.map(sqlLiteral).join(', ')})`, t)
      }
      if (existing.has(OLD_CAPTURE_TRIGGER)) await q.query(`DROP TRIGGER ${OLD_CAPTURE_TRIGGER} ON ${t}`)
      if (STAMP_COLUMNS.some((c) => columns.includes(c))) {
        await this.#ensureTrigger(q, existing, STAMP_TRIGGER, `${target.schema}.${names.stamp}`, [],
          `CREATE TRIGGER ${STAMP_TRIGGER} BEFORE INSERT OR UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${quoteIdent(`${target.schema}.${names.stamp}`)}()`, t)
      } else if (existing.has(STAMP_TRIGGER)) {
        await q.query(`DROP TRIGGER ${STAMP_TRIGGER} ON ${t}`)
      }
    })
  }

  /** Removes the triggers from `table` (a table that was never tracked is fine). */
  untrack(table: string): Promise<void> {
    return this.#locked(async (q, target) => {
      await this.#tableOid(q, table, target)
      const t = quoteIdent(table)
      for (const { name } of Object.values(CAPTURE_TRIGGERS)) await q.query(`DROP TRIGGER IF EXISTS ${name} ON ${t}`)
      await q.query(`DROP TRIGGER IF EXISTS ${OLD_CAPTURE_TRIGGER} ON ${t}`)
      await q.query(`DROP TRIGGER IF EXISTS ${STAMP_TRIGGER} ON ${t}`)
    })
  }

  async #locked(fn: (q: Queryable, target: AuditTarget) => Promise<void>): Promise<void> {
    await this.#db.withClient(async (q) => {
      await q.query('BEGIN')
      try {
        // The same lock as the audit table's own migration: instances starting at once take turns.
        await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`opskit-audit:${this.#table}`])
        await fn(q, this.#target ??= await this.#resolveTarget(q))
        await q.query('COMMIT')
      } catch (err) {
        await q.query('ROLLBACK').catch(() => undefined)
        throw err
      }
    })
  }

  async #resolveTarget(q: Queryable): Promise<AuditTarget> {
    const dot = this.#table.indexOf('.')
    if (dot !== -1) return { schema: this.#table.slice(0, dot), name: this.#table.slice(dot + 1) }
    const { rows } = await q.query('SELECT current_schema() AS s')
    return { schema: String(rows[0]?.s ?? 'public'), name: this.#table }
  }

  async #tableOid(q: Queryable, table: string, target: AuditTarget): Promise<string> {
    if (!isValidIdent(table)) throw new AuditTrackError(`invalid table name ${JSON.stringify(table)}: expected "name" or "schema.name"`)
    const { rows } = await q.query('SELECT to_regclass($1)::oid::text AS oid, to_regclass($2)::oid::text AS audit', [quoteIdent(table), qualified(target)])
    const oid = rows[0]?.oid as string | null
    if (oid == null) throw new AuditTrackError(`table ${JSON.stringify(table)} does not exist`)
    if (oid === rows[0]?.audit) throw new AuditTrackError(`the audit table ${JSON.stringify(table)} cannot be tracked`)
    return oid
  }

  /** Creates or replaces each function whose `opskit-audit v<N>` comment is older than ours. */
  async #ensureFunctions(q: Queryable, target: AuditTarget): Promise<void> {
    await this.#install(q, target, triggerFunctionsSql(target))
  }

  async #install(q: Queryable, target: AuditTarget, functions: FunctionSql[]): Promise<void> {
    const { rows } = await q.query(
      `SELECT p.proname, obj_description(p.oid, 'pg_proc') AS comment FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = $1 AND p.proname = ANY ($2::text[])`,
      [target.schema, functions.map((f) => f.name)],
    )
    const versions = new Map<string, number>()
    for (const row of rows as Array<{ proname: string; comment: string | null }>) {
      const match = VERSION_COMMENT.exec(row.comment ?? '')
      versions.set(row.proname, Math.max(versions.get(row.proname) ?? 0, match === null ? 0 : Number(match[1])))
    }
    for (const { name, args, sql } of functions) {
      if ((versions.get(name) ?? 0) >= TRIGGER_VERSION) continue
      await q.query(sql)
      await q.query(`COMMENT ON FUNCTION ${quoteIdent(`${target.schema}.${name}`)}${args} IS ${sqlLiteral(`opskit-audit v${TRIGGER_VERSION}`)}`)
    }
  }

  async #ensureChain(q: Queryable, target: AuditTarget): Promise<void> {
    for (const statement of chainColumnsSql(target)) await q.query(statement)
    const chain = chainFunctionSql(target)
    await this.#install(q, target, [chain])
    const { rows } = await q.query('SELECT to_regclass($1)::oid::text AS oid', [qualified(target)])
    const t = qualified(target)
    const fnName = quoteIdent(`${target.schema}.${chain.name}`)
    await this.#ensureTrigger(q, await this.#triggers(q, rows[0]!.oid as string), CHAIN_TRIGGER, `${target.schema}.${chain.name}`, [],
      `CREATE TRIGGER ${CHAIN_TRIGGER} BEFORE INSERT ON ${t} FOR EACH ROW EXECUTE FUNCTION ${fnName}()`, t)
  }

  async #triggers(q: Queryable, oid: string): Promise<Map<string, TriggerRow>> {
    const { rows } = await q.query(
      `SELECT t.tgname, n.nspname || '.' || p.proname AS fn, encode(t.tgargs, 'escape') AS args
         FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE t.tgrelid = $1::oid AND t.tgname = ANY ($2::text[])`,
      [oid, [...Object.values(CAPTURE_TRIGGERS).map((c) => c.name), OLD_CAPTURE_TRIGGER, STAMP_TRIGGER, CHAIN_TRIGGER]],
    )
    return new Map((rows as TriggerRow[]).map((r) => [r.tgname, r]))
  }

  /** Leaves a trigger that already calls `fn` with `args`; else (re)creates it. */
  async #ensureTrigger(q: Queryable, existing: Map<string, TriggerRow>, name: string, fn: string, args: string[], create: string, table: string): Promise<void> {
    const current = existing.get(name)
    // tgargs holds each argument followed by a NUL byte (shown as \000 by encode(..., 'escape')).
    const wanted = args.map((a) => `${a.replace(/\\/g, '\\\\')}\\000`).join('')
    if (current !== undefined && current.fn === fn && current.args === wanted) return
    if (current !== undefined) await q.query(`DROP TRIGGER ${name} ON ${table}`)
    await q.query(create)
  }
}
