const UNITS: Record<string, number> = {
  ms: 1,
  msec: 1,
  msecs: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
}

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i

/**
 * A time window in milliseconds from a number of ms or a string such as `'1 minute'`, `'30s'`,
 * `'2 hours'`, `'500 ms'` (a bare number string is milliseconds). `undefined` when not a positive
 * finite duration.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? Math.trunc(value) : undefined
  if (typeof value !== 'string') return undefined
  const match = DURATION.exec(value)
  if (match === null) return undefined
  const amount = Number(match[1])
  const unit = (match[2] ?? '').toLowerCase()
  const factor = unit === '' ? 1 : UNITS[unit]
  if (factor === undefined) return undefined
  const ms = Math.trunc(amount * factor)
  return ms > 0 ? ms : undefined
}

/** `60000` → `'1 minute'`, `1500` → `'2 seconds'`: for 429 messages. */
export function formatSeconds(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return plural(seconds / 3600, 'hour')
  if (seconds >= 60 && seconds % 60 === 0) return plural(seconds / 60, 'minute')
  return plural(seconds, 'second')
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`
}
