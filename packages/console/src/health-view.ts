import type { HealthApi } from '@opskit/health'

/** One check as the console shows it: health's entry plus since when it has had this status. */
export interface HealthCheckView {
  status: string
  latency_ms: number
  error?: string
  since: string
  [field: string]: unknown
}

export interface HealthView {
  status: string
  checked_at: string
  shutting_down: boolean
  services: Record<string, HealthCheckView>
}

/**
 * `fastify.health.run()` for the console: one run serves every viewer for `cacheMs`, so a page
 * left open never runs the checks more often than that. Remembers since when each check has
 * had its status (as the console saw it).
 */
export class HealthWatcher {
  readonly #since = new Map<string, { status: string; since: string }>()
  #last: { at: number; view: Promise<HealthView> } | null = null

  constructor(private readonly health: HealthApi, private readonly cacheMs: number) {}

  read(): Promise<HealthView> {
    const now = Date.now()
    if (this.#last !== null && now - this.#last.at < this.cacheMs) return this.#last.view
    const view = this.#run(now)
    this.#last = { at: now, view }
    view.catch(() => {
      if (this.#last?.view === view) this.#last = null
    })
    return view
  }

  async #run(now: number): Promise<HealthView> {
    const report = await this.health.run()
    const checkedAt = new Date(now).toISOString()
    const services: HealthView['services'] = {}
    for (const [name, result] of Object.entries(report.services ?? {})) {
      let seen = this.#since.get(name)
      if (seen === undefined || seen.status !== result.status) {
        seen = { status: result.status, since: checkedAt }
        this.#since.set(name, seen)
      }
      services[name] = { ...result, since: seen.since }
    }
    return { status: report.status, checked_at: checkedAt, shutting_down: this.health.shuttingDown === true, services }
  }
}
