/** How deep `deepEqual` compares; two values still nested beyond it count as different. */
const MAX_COMPARE_DEPTH = 64

/**
 * Deep equality by value: plain objects, arrays, Dates; everything else with `Object.is`. Values
 * nested deeper than 64 levels count as different unless identical (never a stack overflow).
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  return equalAt(a, b, 0)
}

function equalAt(a: unknown, b: unknown, depth: number): boolean {
  if (Object.is(a, b)) return true
  if (depth > MAX_COMPARE_DEPTH) return false
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime()
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const other = b as unknown[]
    if (a.length !== other.length) return false
    for (let i = 0; i < a.length; i++) if (!equalAt(a[i], other[i], depth + 1)) return false
    return true
  }
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  for (const key of ka) {
    if (!Object.hasOwn(b, key)) return false
    if (!equalAt((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], depth + 1)) return false
  }
  return true
}

export interface FieldChanges {
  /** Changed fields as they were (keys absent before are left out). */
  oldValues: Record<string, unknown>
  /** Changed fields as they are now (keys removed are left out). */
  newValues: Record<string, unknown>
  /** Every changed key, in order of first appearance (before's keys, then after's new ones). */
  keys: string[]
}

/**
 * The top-level fields that differ between `before` and `after`, compared by value (nested objects
 * and arrays deep-equal count as unchanged). A field set to `undefined` counts as absent.
 */
export function diffFields(before: Record<string, unknown>, after: Record<string, unknown>): FieldChanges {
  const oldValues: Record<string, unknown> = {}
  const newValues: Record<string, unknown> = {}
  const keys: string[] = []
  for (const key of Object.keys(before)) {
    const was = before[key]
    const now = Object.hasOwn(after, key) ? after[key] : undefined
    if (deepEqual(was, now)) continue
    keys.push(key)
    if (was !== undefined) oldValues[key] = was
    if (now !== undefined) newValues[key] = now
  }
  for (const key of Object.keys(after)) {
    if (Object.hasOwn(before, key)) continue
    const now = after[key]
    if (now === undefined) continue
    keys.push(key)
    newValues[key] = now
  }
  return { oldValues, newValues, keys }
}
