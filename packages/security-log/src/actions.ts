/** How serious a security event is. Ordered: `info` < `warning` < `critical`. */
export type Severity = 'info' | 'warning' | 'critical'

export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical']

/** The actions opskit knows, with the severity each gets when the caller does not say. */
export const DEFAULT_SEVERITIES = {
  login_success: 'info',
  login_failure: 'warning',
  logout: 'info',
  password_change: 'info',
  token_invalid: 'warning',
  authz_denied: 'warning',
  rate_limit_hit: 'warning',
  suspicious_activity: 'critical',
  account_locked: 'critical',
  tenant_violation: 'critical',
  input_validation_fail: 'info',
} as const satisfies Record<string, Severity>

export type KnownAction = keyof typeof DEFAULT_SEVERITIES

/** The known actions. `action` is free text: other names are stored too, with severity `info`. */
export const KNOWN_ACTIONS = Object.keys(DEFAULT_SEVERITIES) as KnownAction[]

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 }

/** The default severity of `action`: the table above, `info` for an unknown action. */
export function defaultSeverity(action: string): Severity {
  return Object.hasOwn(DEFAULT_SEVERITIES, action) ? DEFAULT_SEVERITIES[action as KnownAction] : 'info'
}

export function isSeverity(value: unknown): value is Severity {
  return value === 'info' || value === 'warning' || value === 'critical'
}

/** 0 for `info`, 1 for `warning`, 2 for `critical`: compare two severities with it. */
export function severityRank(severity: Severity): number {
  return SEVERITY_RANK[severity]
}
