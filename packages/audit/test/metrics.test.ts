import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { opskitCore } from '@opskit/core'
import { opskitMetrics } from '@opskit/metrics'
import { opskitAudit } from '@opskit/audit'

describe('with the real @opskit/metrics', () => {
  it('GET /metrics shows audit_events_total{action}, audit_write_failures_total and audit_queue_depth (with the prefix)', async () => {
    const app = Fastify()
    await app.register(opskitCore)
    await app.register(opskitMetrics, { defaultMetrics: false, prefix: 'shop_' })
    await app.register(opskitAudit, { connection: { embedded: {} } })
    try {
      await app.ready()
      await app.audit.record({ action: 'refund', entityType: 'payment', entityId: 'p-1' })
      await app.audit.record({ action: 'refund', entityType: 'payment', entityId: 'p-2' })
      const res = await app.inject({ url: '/metrics' })
      expect(res.statusCode).toBe(200)
      expect(res.body).toContain('shop_audit_events_total{action="refund"} 2')
      expect(res.body).toContain('shop_audit_write_failures_total 0')
      expect(res.body).toContain('shop_audit_queue_depth 0')
      expect(res.body).toContain('shop_audit_events_not_stored_total 0')
    } finally {
      await app.close()
    }
  })
})

describe('@opskit/metrics stays optional at run time', () => {
  it('audit imports only its types (loading audit never loads prom-client)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs')
    const dir = new URL('../src/', import.meta.url)
    const imports = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(new URL(f, dir), 'utf8').matchAll(/^import\s.*from '(@opskit\/metrics|prom-client)'/gm)].map((m) => `${f}: ${m[0]}`))
    expect(imports.length).toBeGreaterThan(0)
    for (const line of imports) expect(line).toMatch(/: import type /)
  })
})
