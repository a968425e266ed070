import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { QueueClosedError } from '@opskit/audit'
import { buildApp, captureLogs, metricsText } from './helpers.js'

// A pool pointed at a port nobody listens on: every INSERT fails at once. No server needed.
function deadPool(): pg.Pool {
  const pool = new pg.Pool({ host: '127.0.0.1', port: 1, user: 'nobody', database: 'none', connectionTimeoutMillis: 500 })
  pool.on('error', () => undefined)
  return pool
}

describe('database unreachable until close', () => {
  it('non-awaited request.audit() never crashes the process: retried until the close deadline, then logged with the count and counted in audit_events_not_stored_total', async () => {
    const pool = deadPool()
    const { lines, stream } = captureLogs()
    const app = await buildApp(
      { connection: pool, migrate: false, queue: { retryBaseMs: 5, retryMaxMs: 20, closeTimeoutMs: 300 } },
      {
        logs: stream,
        metrics: true,
        routes: (a) => {
          a.post('/fire-and-forget', async (request) => {
            for (let i = 0; i < 3; i++) void request.audit({ action: 'update', entityType: 'thing', entityId: i })
            return { ok: true }
          })
        },
      },
    )
    const awaited = app.audit.record({ action: 'update', entityType: 'thing', entityId: 'awaited' })
    expect((await app.inject({ method: 'POST', url: '/fire-and-forget' })).statusCode).toBe(200)
    expect(app.audit.queueDepth).toBe(4)
    await app.close()
    await expect(awaited).rejects.toBeInstanceOf(QueueClosedError)
    const failure = lines.filter((l) => l.level === 50 && l.msg.includes('writing audit events failed'))
    expect(failure).toHaveLength(1)
    const dropped = lines.find((l) => l.level === 50 && l.msg.includes('NOT written'))
    expect(dropped?.unwritten).toBe(4)
    expect(await metricsText(app)).toContain('audit_events_not_stored_total 4')
    expect(JSON.stringify(lines)).not.toContain('unhandled')
    await pool.end()
  })
})
