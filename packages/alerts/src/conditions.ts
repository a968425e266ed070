import type { HealthReport } from '@opskit/health'
import type { HttpWindow } from './http-window.js'
import type { AlertSeverity } from './message.js'
import type { ResolvedOptions } from './options.js'

/** One problem seen by one evaluation. `key` identifies the alert (`check_down:db`). */
export interface Condition {
  key: string
  alert: string
  severity: AlertSeverity
  cooldownMs: number
  message: string
  details: Record<string, unknown>
}

/** Readiness facts: which rules could run, and what they saw. */
export function healthConditions(rules: ResolvedOptions['rules'], report: HealthReport, failedRuns: number): Condition[] {
  const out: Condition[] = []
  const { service_down, check_down, disk_space } = rules
  if (service_down !== false && failedRuns >= service_down.failures) {
    const failed = Object.entries(report.services).filter(([, r]) => r.status === 'error').map(([name]) => name)
    out.push({
      key: 'service_down',
      alert: 'service_down',
      severity: service_down.severity,
      cooldownMs: service_down.cooldownMs,
      message: `readiness failed ${failedRuns} runs in a row (failing: ${failed.join(', ') || 'none'})`,
      details: { failed_runs: failedRuns, failing_checks: failed },
    })
  }
  for (const [check, result] of Object.entries(report.services)) {
    // A failed check makes readiness "error" only when it is critical ("degraded" otherwise).
    if (check_down !== false && result.status === 'error' && report.status === 'error') {
      out.push({
        key: `check_down:${check}`,
        alert: 'check_down',
        severity: check_down.severity,
        cooldownMs: check_down.cooldownMs,
        message: `check ${check} failed: ${result.error ?? 'error'}`,
        details: { check, error: result.error ?? 'error', latency_ms: result.latency_ms },
      })
    }
    const used = result.used_percent
    if (disk_space !== false && typeof used === 'number' && used >= disk_space.warnPercent) {
      const critical = used >= disk_space.criticalPercent
      out.push({
        key: `disk_space:${check}`,
        alert: 'disk_space',
        severity: critical ? 'critical' : 'warning',
        cooldownMs: critical ? disk_space.criticalCooldownMs : disk_space.warningCooldownMs,
        message: `disk ${used}% full (${critical ? 'critical' : 'warning'} at ${critical ? disk_space.criticalPercent : disk_space.warnPercent}%)`,
        details: { check, used_percent: used, ...(typeof result.path === 'string' ? { path: result.path } : {}) },
      })
    }
  }
  return out
}

export function errorRateCondition(rule: ResolvedOptions['rules']['high_error_rate'], window: HttpWindow): Condition[] {
  if (rule === false || window.errors <= rule.threshold) return []
  const minutes = Math.round(rule.windowMs / 60_000)
  return [{
    key: 'high_error_rate',
    alert: 'high_error_rate',
    severity: rule.severity,
    cooldownMs: rule.cooldownMs,
    message: `${window.errors} responses ≥ 500 in the last ${minutes} min (threshold ${rule.threshold})`,
    details: { count: window.errors, threshold: rule.threshold, window_ms: rule.windowMs },
  }]
}

export function slowCondition(rule: ResolvedOptions['rules']['slow_responses'], window: HttpWindow): Condition[] {
  if (rule === false || window.p95 === undefined || window.requests < rule.minRequests || window.p95 <= rule.p95Seconds) return []
  const p95 = Math.round(window.p95 * 1000) / 1000
  return [{
    key: 'slow_responses',
    alert: 'slow_responses',
    severity: rule.severity,
    cooldownMs: rule.cooldownMs,
    message: `p95 request duration ${p95} s over the last ${Math.round(rule.windowMs / 60_000)} min (threshold ${rule.p95Seconds} s)`,
    details: { p95_seconds: p95, threshold_seconds: rule.p95Seconds, requests: window.requests, window_ms: rule.windowMs },
  }]
}
