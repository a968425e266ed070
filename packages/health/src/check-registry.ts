import { isDurationMs } from '@opskit/core'
import { safeErrorMessage } from './error-message.js'
import { CheckFailedError, FST_OPSKIT_HEALTH_CHECK_TIMEOUT, FST_OPSKIT_HEALTH_INVALID_OPTION } from './errors.js'
import type { HealthCheck, HealthCheckInput, HealthReport, ReportStatus, ServiceResult } from './types.js'

const CHECK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const RESERVED = new Set(['live', 'ready'])
const RESERVED_FIELDS = new Set(['status', 'latency_ms', 'error'])

interface CheckState {
  readonly name: string
  readonly check: HealthCheck
  readonly critical: boolean
  readonly timeoutMs: number
  result: ServiceResult | null
  /** performance.now() when `result` was produced. */
  at: number
  inflight: Promise<ServiceResult> | null
  /** The check's own call while it has not settled, also after its run timed out (a query a hung
   * database never answers): the next run waits on it instead of sending another. */
  call: { promise: Promise<unknown>; controller: AbortController } | null
}

function normalize(name: string, input: HealthCheckInput, defaultTimeoutMs: number): { check: HealthCheck; critical: boolean; timeoutMs: number } {
  const option = `checks.${name}`
  if (typeof name !== 'string' || !CHECK_NAME.test(name)) {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION(option, 'a check name is 1–64 characters of A-Za-z0-9_.- (it becomes a path)')
  }
  if (RESERVED.has(name)) throw new FST_OPSKIT_HEALTH_INVALID_OPTION(option, `"${name}" is reserved for the ${name}ness endpoint`)
  const check: HealthCheck | null = typeof input === 'function' ? { check: input } : input !== null && typeof input === 'object' ? input : null
  if (check === null || typeof check.check !== 'function') {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION(option, 'expected an async function or { check(), critical?, timeoutMs? }')
  }
  const { critical = true, timeoutMs = defaultTimeoutMs } = check
  if (typeof critical !== 'boolean') throw new FST_OPSKIT_HEALTH_INVALID_OPTION(`${option}.critical`, 'expected a boolean')
  if (!isDurationMs(timeoutMs)) {
    throw new FST_OPSKIT_HEALTH_INVALID_OPTION(`${option}.timeoutMs`, 'expected a positive number of milliseconds')
  }
  return { check, critical, timeoutMs }
}

function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100
}

function mergeFields(target: ServiceResult, value: unknown): ServiceResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return target
  for (const key of Object.keys(value)) {
    if (!RESERVED_FIELDS.has(key)) target[key] = (value as Record<string, unknown>)[key]
  }
  return target
}

export interface CheckRegistryOptions {
  timeoutMs: number
  cacheMs: number
}

/**
 * The readiness checks of one Fastify instance. Each check runs with its own timeout; its result
 * is reused for `cacheMs`, and callers arriving while it runs share that one run, so a probe storm
 * never becomes a dependency storm.
 */
export class CheckRegistry {
  private readonly checks = new Map<string, CheckState>()

  constructor(private readonly options: CheckRegistryOptions) {}

  register(name: string, input: HealthCheckInput): void {
    const { check, critical, timeoutMs } = normalize(name, input, this.options.timeoutMs)
    if (this.checks.has(name)) throw new FST_OPSKIT_HEALTH_INVALID_OPTION(`checks.${name}`, 'a check with this name is already registered')
    this.checks.set(name, { name, check, critical, timeoutMs, result: null, at: 0, inflight: null, call: null })
  }

  runCheck(name: string): Promise<ServiceResult> | undefined {
    const state = this.checks.get(name)
    return state === undefined ? undefined : this.runState(state)
  }

  async run(): Promise<HealthReport> {
    const states = [...this.checks.values()]
    const results = await Promise.all(states.map((state) => this.runState(state)))
    let status: ReportStatus = 'ok'
    const services: Record<string, ServiceResult> = {}
    for (let i = 0; i < states.length; i++) {
      const state = states[i] as CheckState
      const result = results[i] as ServiceResult
      services[state.name] = result
      if (result.status === 'error') {
        if (state.critical) status = 'error'
        else if (status === 'ok') status = 'degraded'
      }
    }
    return { status, services }
  }

  async close(): Promise<void> {
    await Promise.all([...this.checks.values()].map(async (state) => state.check.close?.()))
  }

  private runState(state: CheckState): Promise<ServiceResult> {
    if (state.result !== null && performance.now() - state.at < this.options.cacheMs) return Promise.resolve(state.result)
    if (state.inflight !== null) return state.inflight
    const inflight = this.execute(state).then((result) => {
      state.result = result
      state.at = performance.now()
      state.inflight = null
      return result
    })
    state.inflight = inflight
    return inflight
  }

  /** Calls the check, or returns its previous call while that one is still pending, so a dependency
   * that hangs past the timeout holds at most one call per check (a pool is never filled by probes). */
  private callCheck(state: CheckState): { promise: Promise<unknown>; controller: AbortController } {
    if (state.call !== null) return state.call
    const controller = new AbortController()
    const call = { promise: Promise.resolve().then(() => state.check.check(controller.signal)), controller }
    const settled = (): void => {
      if (state.call === call) state.call = null
    }
    call.promise.then(settled, settled)
    state.call = call
    return call
  }

  private async execute(state: CheckState): Promise<ServiceResult> {
    const { promise, controller } = this.callCheck(state)
    const started = performance.now()
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new FST_OPSKIT_HEALTH_CHECK_TIMEOUT())
        controller.abort(new FST_OPSKIT_HEALTH_CHECK_TIMEOUT())
      }, state.timeoutMs)
      // Not unref()'d: the caller awaits this timer (a probe, `health.run()`, `inject()`), and a check
      // that never settles must still answer "timeout" when nothing else holds the event loop open.
    })
    try {
      const value = await Promise.race([promise, timeout])
      return mergeFields({ status: 'ok', latency_ms: roundMs(performance.now() - started) }, value)
    } catch (err) {
      const latency = roundMs(performance.now() - started)
      const failed: ServiceResult = { status: 'error', latency_ms: latency, error: err instanceof FST_OPSKIT_HEALTH_CHECK_TIMEOUT ? 'timeout' : safeErrorMessage(err) }
      return err instanceof CheckFailedError ? mergeFields(failed, err.details) : failed
    } finally {
      clearTimeout(timer)
    }
  }
}
