import type { FastifyBaseLogger } from 'fastify'
import { redactString } from '@opskit/core'
import type { AuditService } from './audit-service.js'

const HOUR_MS = 60 * 60 * 1000

/**
 * Deletes rows older than `days` now and then every hour, on an `unref()`'d timer. `stop()` clears
 * the timer and waits for a purge in progress (so the database is not closed under it).
 */
export function startRetention(service: AuditService, days: number, log: FastifyBaseLogger, intervalMs = HOUR_MS): { stop(): Promise<void> } {
  let running: Promise<void> | null = null
  const purge = (): void => {
    if (running !== null) return
    running = service.purgeOlderThan(days).then(
      (deleted) => {
        if (deleted > 0) log.info({ deleted, retention_days: days }, `@opskit/audit: purged ${deleted} audit rows older than ${days} days`)
      },
      (err: Error) => {
        log.warn({ err: { message: redactString(err.message) } }, '@opskit/audit: retention purge failed; retried at the next interval')
      },
    ).finally(() => {
      running = null
    })
  }
  purge()
  const timer = setInterval(purge, intervalMs)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      if (running !== null) await running
    },
  }
}
