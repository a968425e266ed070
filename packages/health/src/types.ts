/** A readiness check. `check()` resolves when the dependency is fine (an object it resolves with is
 * merged into the service entry, e.g. `used_percent`) and rejects when it is not. */
export interface HealthCheck {
  /** Resolves when healthy. Receives a signal that aborts when the check's timeout passes. */
  check(signal: AbortSignal): Promise<unknown>
  /** A failing critical check makes readiness `503 "error"`; a non-critical one `200 "degraded"`. Default `true`. */
  critical?: boolean
  /** This check's own timeout, ms. Default: the plugin's `timeoutMs`. */
  timeoutMs?: number
  /** Releases what the check holds (a monitor, a timer). Called once when Fastify closes. */
  close?(): void | Promise<void>
}

/** What `checks` and `fastify.health.register()` accept: a `HealthCheck` or a bare async function. */
export type HealthCheckInput = HealthCheck | ((signal: AbortSignal) => Promise<unknown>)

export type ServiceStatus = 'ok' | 'error'

/** One service in a readiness report (and the body of `GET /health/<name>`). */
export interface ServiceResult {
  status: ServiceStatus
  latency_ms: number
  error?: string
  [field: string]: unknown
}

export type ReportStatus = 'ok' | 'degraded' | 'error'

/** The readiness report: `ok`, `degraded` (a non-critical check failed) or `error` (a critical one did). */
export interface HealthReport {
  status: ReportStatus
  services: Record<string, ServiceResult>
}

export interface HealthApi {
  /** Adds a check (also after start). Throws when the name is taken or reserved (`live`, `ready`). */
  register(name: string, check: HealthCheckInput): void
  /** Runs every check (cached for `cacheMs`, concurrent callers share one run) and reports. */
  run(): Promise<HealthReport>
  /** Runs one check (same cache); `undefined` when no check has that name. */
  runCheck(name: string): Promise<ServiceResult> | undefined
  /** True from the moment `fastify.close()` starts. */
  readonly shuttingDown: boolean
}
