import { quoteIdent } from '@opskit/store'
import { SECRET_KEY_TERMS } from '@opskit/core'
import { STAMP_COLUMNS } from './auditable-columns.js'

/**
 * Version of the PL/pgSQL functions below. Each function carries `opskit-audit v<N>` as its
 * comment; a migration replaces a function whose version is lower (or missing) and leaves a newer
 * one alone, so an older opskit starting next to a newer one never downgrades the triggers.
 * Bump it whenever the SQL of any function changes.
 */
export const TRIGGER_VERSION = 3

const terms = (list: readonly string[]): string[] => {
  for (const term of list) if (!/^[a-z0-9]+$/.test(term)) throw new Error(`@opskit/audit: secret key term ${JSON.stringify(term)} is not [a-z0-9]+`)
  return [...list]
}
const LONG = terms(SECRET_KEY_TERMS.long)
const SHORT = terms(SECRET_KEY_TERMS.short)
const METADATA = terms(SECRET_KEY_TERMS.metadata)
const arraySql = (items: readonly string[]): string => `ARRAY[${items.map(sqlLiteral).join(', ')}]::text[]`

/**
 * Any term of core's key rule (`SECRET_KEY_TERMS`; a term holding another one left out), anywhere:
 * a key can only be secret when its letters and digits, lower-cased and run together, match this.
 * The cheap test in front of the exact rule (`<audit table>_opskit_is_secret_key`).
 */
const ALL_TERMS = [...LONG, ...SHORT]
const CANDIDATE_TERMS = ALL_TERMS.filter((t) => !ALL_TERMS.some((other) => other !== t && t.includes(other)))
export const SECRET_KEY_PATTERN = CANDIDATE_TERMS.join('|')

/** A key lower-cased with everything but `a-z0-9` removed, for the `SECRET_KEY_PATTERN` test. */
const flatKeySql = (key: string): string => `regexp_replace(lower(${key}), '[^a-z0-9]+', '', 'g')`

/**
 * True when a value's JSON text may hold a secret key (its fast path): a term whose letters may be
 * apart by anything but a letter or digit, an escape (`\n`, `\"`, `\u001f`) counting whole as one
 * such character. One regex over the text (cheaper than removing the separators first).
 */
const SEPARATORS = String.raw`(?:[^a-z0-9\\]|\\(?:u[0-9a-f]{4}|.))*`
const JSON_CANDIDATE_PATTERN = CANDIDATE_TERMS.map((t) => t.split('').join(SEPARATORS)).join('|')
const mayHoldSecretKeySql = (text: string): string => `lower(${text}) ~ '${JSON_CANDIDATE_PATTERN}'`

/** True when `key` is secret by core's rule: the cheap pattern first, then the exact function `isSecret`. */
const isSecretSql = (isSecret: string, key: string): string => `(${flatKeySql(key)} ~ '${SECRET_KEY_PATTERN}' AND ${isSecret}(${key}))`

/** Key names as core and the triggers compare them. */
export const normalizeKey = (key: string): string => key.toLowerCase().replace(/[-_]/g, '')

/** A SQL string literal (standard_conforming_strings, the default since PostgreSQL 9.1). */
export function sqlLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`
}

/** A `text[]` literal (`{"id","tenant"}`), for trigger arguments. */
export function textArrayLiteral(items: readonly string[]): string {
  return `{${items.map((item) => `"${item.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`
}

/** Where the audit table and its functions live: `schema` resolved (current_schema() when unqualified). */
export interface AuditTarget {
  schema: string
  /** The audit table's name without schema. */
  name: string
}

/** `"schema"."name"`. */
export const qualified = (target: AuditTarget): string => quoteIdent(`${target.schema}.${target.name}`)

/** Names of the functions that belong to one audit table, in its schema (at most 63 characters). */
export function functionNames(target: AuditTarget): Record<'stamp' | 'capture' | 'redact' | 'isSecretKey' | 'chain', string> {
  const name = (suffix: string): string => `${target.name.slice(0, 63 - suffix.length)}${suffix}`
  return {
    stamp: name('_opskit_stamp'),
    capture: name('_opskit_capture'),
    redact: name('_opskit_redact'),
    isSecretKey: name('_opskit_is_secret_key'),
    chain: name('_opskit_chain'),
  }
}

/** Trigger names on a tracked table: BEFORE (each row) stamps it; AFTER (each statement) writes the audit rows. */
export const STAMP_TRIGGER = 'opskit_audit_stamp'
export const CAPTURE_TRIGGERS = {
  INSERT: { name: 'opskit_audit_insert', referencing: 'NEW TABLE AS opskit_new' },
  UPDATE: { name: 'opskit_audit_update', referencing: 'OLD TABLE AS opskit_old NEW TABLE AS opskit_new' },
  DELETE: { name: 'opskit_audit_delete', referencing: 'OLD TABLE AS opskit_old' },
} as const
/** The row-level trigger of earlier versions, dropped when found. */
export const OLD_CAPTURE_TRIGGER = 'opskit_audit_capture'
/** Trigger name on the audit table with `chain: true`. */
export const CHAIN_TRIGGER = 'opskit_audit_chain'

const fn = (target: AuditTarget, name: string): string => quoteIdent(`${target.schema}.${name}`)
const STAMPS = `ARRAY[${STAMP_COLUMNS.map((c) => sqlLiteral(c)).join(', ')}]::text[]`

/** One side of a changes_summary entry: the JSON text, cut at 120 characters (inline: a SQL function call per value costs more than the rest of the row). */
const showSql = (v: string): string =>
  `CASE WHEN ${v} IS NULL THEN '(unset)' WHEN length(${v}::text) > 120 THEN left(${v}::text, 119) || '…' ELSE ${v}::text END`

// The queries of a row-level trigger function run once per row with new parameter values:
// planning them anew each time (the custom plans plpgsql starts with) costs as much as running
// them. JIT off: the statement-level INSERT ... SELECT is estimated expensive enough for JIT, whose
// compilation took 2 s of a 2.3 s bulk UPDATE of 3000 rows.
const GENERIC_PLANS = 'SET plan_cache_mode = force_generic_plan SET jit = off'

/** The primary key value of row `j` as text (a composite key joined with `,`; null without a key). */
const entityIdSql = (j: string): string =>
  `CASE cardinality(pk) WHEN 0 THEN NULL WHEN 1 THEN ${j} ->> pk[1] ELSE array_to_string(ARRAY(SELECT ${j} ->> u.k FROM unnest(pk) WITH ORDINALITY AS u(k, i) ORDER BY u.i), ',') END`

/** A summary cut at 2000 characters. */
const boundSql = (text: string): string => `CASE WHEN length(${text}) > 2000 THEN left(${text}, 1999) || '…' ELSE ${text} END`

/** Row `j` redacted; the redact function only runs when the row's text holds a secret-looking key. */
const redactRowSql = (redact: string, j: string): string =>
  `CASE WHEN cardinality(extra) > 0 OR ${mayHoldSecretKeySql(`${j}::text`)} THEN ${redact}(${j}, extra) ELSE ${j} END`

/** A SQL function, its argument types (for COMMENT ON FUNCTION) and its `CREATE OR REPLACE FUNCTION` statement. */
export interface FunctionSql {
  name: string
  args: string
  sql: string
}

/** `CREATE OR REPLACE FUNCTION` statements, by function name. */
export function triggerFunctionsSql(target: AuditTarget): FunctionSql[] {
  const names = functionNames(target)
  const redact = fn(target, names.redact)
  const isSecret = fn(target, names.isSecretKey)
  const extraKey = "translate(lower(key), '-_', '') = ANY (extra)"
  const maxShort = Math.max(...SHORT.map((t) => t.length))
  return [
    {
      name: names.isSecretKey,
      args: '(text)',
      // isSecretKey() of @opskit/core, generated from its term lists (SECRET_KEY_TERMS): the key
      // split into words as keyWords() splits it; a long term ends a word, a short term is whole
      // words; a descriptive word after the term spares the key, so only terms ending at or after
      // the last such word count.
      sql: `CREATE OR REPLACE FUNCTION ${isSecret}(key text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT AS $opskit$
DECLARE
  words text[] := array_remove(string_to_array(regexp_replace(lower(regexp_replace(regexp_replace(regexp_replace(key,
    '([a-z0-9])([A-Z])', '\\1 \\2', 'g'), '([A-Z]+)([A-Z][a-z])', '\\1 \\2', 'g'), '([A-Za-z])([0-9])', '\\1 \\2', 'g')),
    '[^a-z0-9]+', ' ', 'g'), ' '), '');
  n int := cardinality(words);
  from_word int := 1;
  tail text;
BEGIN
  FOR i IN REVERSE n..1 LOOP
    IF words[i] = ANY (${arraySql(METADATA)}) THEN from_word := i; EXIT; END IF;
  END LOOP;
  FOR e IN from_word..n LOOP
    IF array_to_string(words[1:e], '') ~ '(${LONG.join('|')})$' THEN RETURN true; END IF;
    tail := '';
    FOR k IN REVERSE e..1 LOOP
      tail := words[k] || tail;
      EXIT WHEN length(tail) > ${maxShort};
      IF tail = ANY (${arraySql(SHORT)}) THEN RETURN true; END IF;
    END LOOP;
  END LOOP;
  RETURN false;
END
$opskit$`,
    },
    {
      name: names.redact,
      args: '(jsonb, text[])',
      // Secret keys at any depth become "[REDACTED]" (a null stays null, like core's redact()).
      // Fast path: when nothing in the value's text looks like a secret key, it is returned as is.
      sql: `CREATE OR REPLACE FUNCTION ${redact}(v jsonb, extra text[]) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $opskit$
BEGIN
  IF v IS NULL OR jsonb_typeof(v) NOT IN ('object', 'array') THEN RETURN v; END IF;
  IF NOT ${mayHoldSecretKeySql('v::text')} AND (cardinality(extra) = 0
      OR NOT EXISTS (SELECT 1 FROM unnest(extra) AS e(k) WHERE strpos(translate(lower(v::text), '-_', ''), e.k) > 0)) THEN
    RETURN v;
  END IF;
  IF jsonb_typeof(v) = 'array' THEN
    RETURN (SELECT coalesce(jsonb_agg(${redact}(a.e, extra) ORDER BY a.i), '[]'::jsonb) FROM jsonb_array_elements(v) WITH ORDINALITY AS a(e, i));
  END IF;
  RETURN (SELECT coalesce(jsonb_object_agg(key, CASE
      WHEN value <> 'null'::jsonb AND (${isSecretSql(isSecret, 'key')} OR ${extraKey}) THEN to_jsonb('[REDACTED]'::text)
      ELSE ${redact}(value, extra) END), '{}'::jsonb)
    FROM jsonb_each(v));
END
$opskit$`,
    },
    {
      name: names.stamp,
      args: '()',
      // BEFORE INSERT OR UPDATE: date_added / added_by set on insert and kept on update,
      // date_updated = now() on every real change, updated_by = the bound actor (else what the
      // statement wrote itself, else null). Columns the table lacks are ignored.
      sql: `CREATE OR REPLACE FUNCTION ${fn(target, names.stamp)}() RETURNS trigger LANGUAGE plpgsql AS $opskit$
DECLARE
  actor text := nullif(current_setting('opskit.ctx', true), '')::jsonb ->> 'user_id';
  new_j jsonb := to_jsonb(NEW);
  old_j jsonb;
  patch jsonb;
BEGIN
  IF TG_OP = 'INSERT' THEN
    patch := jsonb_build_object('date_added', now(), 'date_updated', now());
    IF actor IS NOT NULL THEN patch := patch || jsonb_build_object('added_by', actor, 'updated_by', actor); END IF;
  ELSE
    old_j := to_jsonb(OLD);
    IF (new_j - ${STAMPS}) = (old_j - ${STAMPS}) THEN RETURN NEW; END IF;
    patch := jsonb_build_object('date_added', old_j -> 'date_added', 'added_by', old_j -> 'added_by', 'date_updated', now());
    IF actor IS NOT NULL THEN
      patch := patch || jsonb_build_object('updated_by', actor);
    ELSIF (new_j -> 'updated_by') IS NOT DISTINCT FROM (old_j -> 'updated_by') THEN
      patch := patch || jsonb_build_object('updated_by', NULL::text);
    END IF;
  END IF;
  RETURN jsonb_populate_record(NEW, patch);
END
$opskit$`,
    },
    {
      name: names.capture,
      args: '()',
      // AFTER ... FOR EACH STATEMENT with transition tables (opskit_new / opskit_old): one
      // INSERT ... SELECT writes the audit rows of every row the statement changed, in the
      // writer's transaction. An UPDATE's old and new rows are paired by their position in the
      // transition tables (both are filled row by row together), so a changed primary key or a
      // table without one is paired right too. TG_ARGV: primary key columns, extra redacted keys
      // (normalized) and the table's columns in order (for the summary), each a text[] literal.
      sql: `CREATE OR REPLACE FUNCTION ${fn(target, names.capture)}() RETURNS trigger LANGUAGE plpgsql ${GENERIC_PLANS} AS $opskit$
DECLARE
  ctx jsonb := nullif(current_setting('opskit.ctx', true), '')::jsonb;
  pk text[] := TG_ARGV[0]::text[];
  extra text[] := TG_ARGV[1]::text[];
  cols text[] := TG_ARGV[2]::text[];
BEGIN
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO ${qualified(target)} (id, user_id, user_email, action, entity_type, entity_id, entity_name,
      old_values, new_values, changes_summary, ip_address, user_agent, request_path, request_id, created_at, trace_id)
    SELECT gen_random_uuid(), ctx ->> 'user_id', ctx ->> 'user_email', CASE WHEN d.soft THEN 'delete' ELSE 'update' END,
      TG_TABLE_NAME, ${entityIdSql('n.j')}, NULL, d.old_v, d.new_v, ${boundSql('d.summary')},
      (ctx ->> 'ip')::inet, ctx ->> 'user_agent', ctx ->> 'path', ctx ->> 'request_id', now(), ctx ->> 'trace_id'
    FROM (SELECT to_jsonb(t) AS j, row_number() OVER () AS rn FROM opskit_new AS t) AS n
    JOIN (SELECT to_jsonb(t) AS j, row_number() OVER () AS rn FROM opskit_old AS t) AS o ON o.rn = n.rn
    CROSS JOIN LATERAL (
      SELECT jsonb_object_agg(c.key, c.ro) AS old_v, jsonb_object_agg(c.key, c.rn) AS new_v,
             string_agg(format('%s: %s → %s', c.key, ${showSql('c.ro')}, ${showSql('c.rn')}), '; ' ORDER BY c.pos, c.key) AS summary,
             -- Soft delete: deleted_at going from null to a time is recorded as a delete.
             bool_or(c.key = 'deleted_at' AND c.ov = 'null'::jsonb) AS soft
        FROM (
          SELECT nv.key, ov.value AS ov, coalesce(array_position(cols, nv.key), 2147483647) AS pos,
                 CASE WHEN s.secret AND ov.value <> 'null'::jsonb THEN to_jsonb('[REDACTED]'::text)
                      WHEN jsonb_typeof(ov.value) IN ('object', 'array') THEN ${redact}(ov.value, extra) ELSE ov.value END AS ro,
                 CASE WHEN s.secret AND nv.value <> 'null'::jsonb THEN to_jsonb('[REDACTED]'::text)
                      WHEN jsonb_typeof(nv.value) IN ('object', 'array') THEN ${redact}(nv.value, extra) ELSE nv.value END AS rn
            FROM jsonb_each(n.j) AS nv
            JOIN jsonb_each(o.j) AS ov ON ov.key = nv.key
           CROSS JOIN LATERAL (SELECT ${isSecretSql(isSecret, 'nv.key')} OR translate(lower(nv.key), '-_', '') = ANY (extra) AS secret) AS s
           WHERE nv.key <> ALL (${STAMPS}) AND nv.value IS DISTINCT FROM ov.value
        ) AS c
    ) AS d
    WHERE d.summary IS NOT NULL;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO ${qualified(target)} (id, user_id, user_email, action, entity_type, entity_id, entity_name,
      old_values, new_values, changes_summary, ip_address, user_agent, request_path, request_id, created_at, trace_id)
    SELECT gen_random_uuid(), ctx ->> 'user_id', ctx ->> 'user_email', 'create', TG_TABLE_NAME, r.eid, NULL, NULL, ${redactRowSql(redact, 'r.j')},
      ${boundSql("'created ' || TG_TABLE_NAME || coalesce(' ' || r.eid, '')")},
      (ctx ->> 'ip')::inet, ctx ->> 'user_agent', ctx ->> 'path', ctx ->> 'request_id', now(), ctx ->> 'trace_id'
    FROM (SELECT s.j, ${entityIdSql('s.j')} AS eid FROM (SELECT to_jsonb(t) AS j FROM opskit_new AS t) AS s) AS r;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO ${qualified(target)} (id, user_id, user_email, action, entity_type, entity_id, entity_name,
      old_values, new_values, changes_summary, ip_address, user_agent, request_path, request_id, created_at, trace_id)
    SELECT gen_random_uuid(), ctx ->> 'user_id', ctx ->> 'user_email', 'delete', TG_TABLE_NAME, r.eid, NULL, ${redactRowSql(redact, 'r.j')}, NULL,
      ${boundSql("'deleted ' || TG_TABLE_NAME || coalesce(' ' || r.eid, '')")},
      (ctx ->> 'ip')::inet, ctx ->> 'user_agent', ctx ->> 'path', ctx ->> 'request_id', now(), ctx ->> 'trace_id'
    FROM (SELECT s.j, ${entityIdSql('s.j')} AS eid FROM (SELECT to_jsonb(t) AS j FROM opskit_old AS t) AS s) AS r;
  END IF;
  RETURN NULL;
END
$opskit$`,
    },
  ]
}

/**
 * The fields of a row's canonical JSON, as SQL over `prefix` (`NEW.` in the trigger, `` in the
 * verifier): each the column's text as PostgreSQL prints it, in this order. The canonical JSON is
 * `json_build_array(<these>)::text`: a JSON array of those strings (null for NULL), elements
 * separated by `, `, strings escaped as `JSON.stringify` escapes them, so JavaScript rebuilds it as
 * `'[' + values.map((v) => JSON.stringify(v)).join(', ') + ']'`;
 * `hash = sha256_hex(utf8((prev_hash ?? '') + canonical))`.
 */
export function canonicalFields(prefix: string): string[] {
  const c = (column: string): string => `${prefix}${column}`
  return [
    `${c('chain_seq')}::text`, `${c('id')}::text`, c('user_id'), c('user_email'), c('action'), c('entity_type'),
    c('entity_id'), c('entity_name'), `${c('old_values')}::text`, `${c('new_values')}::text`, c('changes_summary'),
    `${c('ip_address')}::text`, c('user_agent'), c('request_path'), c('request_id'),
    `to_char(${c('created_at')} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
  ]
}

/** The chain columns, unique index, and the BEFORE INSERT function; all idempotent. */
export function chainColumnsSql(target: AuditTarget): string[] {
  const t = qualified(target)
  const index = quoteIdent(`${target.name.slice(0, 63 - '_chain_seq_idx'.length)}_chain_seq_idx`)
  return [
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS chain_seq bigint`,
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS prev_hash text`,
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS hash text`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${index} ON ${t} (chain_seq)`,
  ]
}

export function chainFunctionSql(target: AuditTarget): FunctionSql {
  const { chain } = functionNames(target)
  const json = `json_build_array(${canonicalFields('NEW.').join(', ')})::text`
  return {
    name: chain,
    args: '()',
    // The transaction-scoped advisory lock makes appends one at a time until COMMIT: every writer
    // (group commit, trigger-written rows, other services) reads the committed head. Under
    // REPEATABLE READ a stale head gives a duplicate chain_seq, which the unique index refuses.
    sql: `CREATE OR REPLACE FUNCTION ${fn(target, chain)}() RETURNS trigger LANGUAGE plpgsql ${GENERIC_PLANS} AS $opskit$
DECLARE
  last_seq bigint;
  last_hash text;
  locked text;
BEGIN
  -- An assignment, not PERFORM: a plain expression, evaluated without a query (3x cheaper per row).
  locked := pg_advisory_xact_lock(hashtext('opskit-audit-chain:' || TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME))::text;
  SELECT chain_seq, hash INTO last_seq, last_hash FROM ${qualified(target)} WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1;
  NEW.chain_seq := coalesce(last_seq, 0) + 1;
  NEW.prev_hash := last_hash;
  NEW.hash := encode(sha256(convert_to(coalesce(last_hash, '') || ${json}, 'UTF8')), 'hex');
  RETURN NEW;
END
$opskit$`,
  }
}
