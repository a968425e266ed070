import net from 'node:net'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import type { AuditRecord } from '@opskit/audit'
import { buildApp, captureLogs, DATABASE_URL, metricsText } from './helpers.js'

if (DATABASE_URL === undefined) console.info('[@opskit/audit tests] DATABASE_URL unset: the PostgreSQL outage test (TCP proxy in front of PostgreSQL) is skipped')

/** A TCP proxy in front of PostgreSQL that can drop every connection and refuse new ones. */
async function startProxy(upstreamHost: string, upstreamPort: number) {
  const sockets = new Set<net.Socket>()
  let down = false
  const server = net.createServer((client) => {
    if (down) {
      client.destroy()
      return
    }
    const upstream = net.connect(upstreamPort, upstreamHost)
    sockets.add(client)
    sockets.add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    goDown() {
      down = true
      for (const socket of sockets) socket.destroy()
      sockets.clear()
    },
    comeBack() {
      down = false
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    }),
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(DATABASE_URL === undefined)('PostgreSQL goes away mid-load and comes back', () => {
  const table = `audit_logs_outage_${Math.random().toString(16).slice(2, 10)}`
  const direct = new pg.Pool({ connectionString: DATABASE_URL })
  afterAll(async () => {
    await direct.query(`DROP TABLE IF EXISTS ${table}`)
    await direct.end()
  })

  it('every accepted row lands exactly once; one ERROR for the outage, failures counted, recovery logged', async () => {
    const upstream = new URL(DATABASE_URL!)
    const proxy = await startProxy(upstream.hostname, Number(upstream.port || 5432))
    const viaProxy = new URL(DATABASE_URL!)
    viaProxy.hostname = '127.0.0.1'
    viaProxy.port = String(proxy.port)
    const pool = new pg.Pool({ connectionString: viaProxy.toString(), max: 4 })
    pool.on('error', () => undefined)
    const { lines, stream } = captureLogs()
    let app: FastifyInstance | undefined
    try {
      app = await buildApp({ connection: pool, table, queue: { retryBaseMs: 50, retryMaxMs: 400 } }, { logs: stream, metrics: true })
      const pending: Array<Promise<AuditRecord>> = []
      for (let round = 0; round < 40; round++) {
        if (round === 10) proxy.goDown()
        if (round === 35) proxy.comeBack()
        for (let i = 0; i < 50; i++) {
          pending.push(app.audit.record({ action: 'update', entityType: 'item', entityId: `${round}-${i}`, after: { round } }))
        }
        await sleep(100)
      }
      const records = await Promise.all(pending)
      expect(records).toHaveLength(2000)

      const ids = records.map((r) => r.id)
      const { rows } = await direct.query(
        `SELECT count(*)::int AS total, count(DISTINCT id)::int AS distinct_ids FROM ${table} WHERE id = ANY($1::uuid[])`,
        [ids],
      )
      expect(rows[0]).toEqual({ total: 2000, distinct_ids: 2000 })
      const all = await direct.query(`SELECT count(*)::int AS n FROM ${table}`)
      expect(all.rows[0].n).toBe(2000)

      const errors = lines.filter((l) => l.level === 50 && l.msg.includes('writing audit events failed'))
      expect(errors.length).toBeGreaterThanOrEqual(1)
      expect(errors.length).toBeLessThanOrEqual(2)
      expect(lines.some((l) => l.level === 40 && l.msg.includes('audit writes recovered'))).toBe(true)
      const text = await metricsText(app)
      const failures = Number(/audit_write_failures_total (\d+)/.exec(text)?.[1])
      expect(failures).toBeGreaterThan(0)
      expect(text).toContain('audit_events_total{action="update"} 2000')
    } finally {
      await app?.close()
      await pool.end()
      await proxy.close()
    }
  })
})
