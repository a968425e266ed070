/** What the console reads of `fastify.alerts` (from `@opskit/alerts`): lists of alert entries. */
export interface AlertsSource {
  firing(): unknown
  history(): unknown
}

const MAX_HISTORY = 50

/** Plain JSON of one entry: the alert object as given, or `{ alert: <text> }` for anything else. */
function entryOf(value: unknown): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    try {
      return JSON.parse(JSON.stringify(value)) as Record<string, unknown>
    } catch {
      return { alert: String(value) }
    }
  }
  return { alert: String(value) }
}

async function listOf(value: unknown): Promise<Record<string, unknown>[]> {
  const resolved = await value
  if (Array.isArray(resolved)) return resolved.map(entryOf)
  if (resolved instanceof Map) return [...resolved.values()].map(entryOf)
  return []
}

/** `{ firing, history }` from `fastify.alerts`, read defensively (sync or async, arrays or maps); history newest last, at most 50. */
export async function readAlerts(source: AlertsSource): Promise<{ firing: Record<string, unknown>[]; history: Record<string, unknown>[] }> {
  const firing = typeof source.firing === 'function' ? await listOf(source.firing()) : []
  const history = typeof source.history === 'function' ? await listOf(source.history()) : []
  return { firing, history: history.slice(-MAX_HISTORY) }
}
