/**
 * PostgreSQL array literals (`{"a","b",NULL}`) for `unnest($1::text[], …)` INSERTs, built here
 * rather than handed to pg as JS arrays: pg escapes every element with two regex replaces and
 * concatenates them one by one, a fifth of the write path's JavaScript. A column whose values are
 * all strings free of `"` and `\` (ids, times, addresses, most texts) is one `join`.
 */

/** True when `text` needs escaping inside a quoted array element. */
const needsEscape = (text: string): boolean => text.includes('"') || text.includes('\\')

/** One element: quoted (so `NULL`, braces, commas and spaces stay text), or NULL. */
function element(value: unknown): string {
  if (value == null) return 'NULL'
  let text = typeof value === 'string' ? value : String(value)
  if (text.includes('\\')) text = text.replaceAll('\\', '\\\\')
  if (text.includes('"')) text = text.replaceAll('"', '\\"')
  return '"' + text + '"'
}

/** The text of a one-dimensional array holding `values` (`null` and `undefined` as NULL). */
export function arrayLiteral(values: readonly unknown[]): string {
  const n = values.length
  let plain = true
  for (let i = 0; i < n; i++) {
    const value = values[i]
    if (typeof value !== 'string' || needsEscape(value)) {
      plain = false
      break
    }
  }
  if (plain) return n === 0 ? '{}' : `{"${values.join('","')}"}`
  let out = '{'
  for (let i = 0; i < n; i++) out += (i === 0 ? '' : ',') + element(values[i])
  return out + '}'
}
