const MAX_VALUE_LENGTH = 120
const MAX_SUMMARY_LENGTH = 2000
const ABSENT = '(unset)'

function show(value: unknown): string {
  if (value === undefined) return ABSENT
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 1)}…` : text
}

function bound(summary: string): string {
  return summary.length > MAX_SUMMARY_LENGTH ? `${summary.slice(0, MAX_SUMMARY_LENGTH - 1)}…` : summary
}

/**
 * `status: "pending" → "confirmed"; amount: 10 → 12`, from ALREADY REDACTED changed fields, so the
 * summary never carries a secret. Values are JSON, each cut at 120 characters, the whole at 2000.
 */
export function updateSummary(keys: string[], oldValues: Record<string, unknown>, newValues: Record<string, unknown>): string {
  if (keys.length === 0) return 'no changes'
  const parts: string[] = []
  for (const key of keys) {
    parts.push(`${key}: ${show(oldValues[key])} → ${show(newValues[key])}`)
  }
  return bound(parts.join('; '))
}

/** `created booking 42 "Room 5"`, `deleted booking 42`, `approve invoice 7`. */
export function eventSummary(verb: string, entityType: string, entityId: string | null, entityName: string | null): string {
  let summary = `${verb} ${entityType}`
  if (entityId !== null) summary += ` ${entityId}`
  if (entityName !== null) summary += ` ${JSON.stringify(entityName)}`
  return bound(summary)
}
