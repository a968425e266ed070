import type { AlertSeverity } from '../message.js'

// Checks shared by the sink factories; each reports through its own `fail` (the option's name).

export function positiveTimeout(value: unknown, option: string, fail: (option: string, problem: string) => never): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(option, 'expected a positive integer of milliseconds')
  return value
}

export function httpUrl(value: unknown, option: string, fail: (option: string, problem: string) => never): URL {
  let url: URL
  try {
    url = new URL(value as string)
  } catch {
    fail(option, 'expected an absolute http(s) URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(option, 'expected an absolute http(s) URL')
  return url
}

const SEVERITIES: readonly AlertSeverity[] = ['critical', 'error', 'warning', 'info']

export function severitiesOf(value: unknown, fail: (option: string, problem: string) => never): { severities?: readonly AlertSeverity[] } {
  if (value === undefined) return {}
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => SEVERITIES.includes(v as AlertSeverity))) {
    fail('severities', 'expected a non-empty array of "critical", "error", "warning", "info"')
  }
  return { severities: [...(value as AlertSeverity[])] }
}
