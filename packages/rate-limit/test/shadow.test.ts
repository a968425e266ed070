import Fastify, { type FastifyInstance } from 'fastify'
import { opskitCore } from '@opskit/core'
import { opskitMetrics } from '@opskit/metrics'
import { opskitSecurityLog } from '@opskit/security-log'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { opskitRateLimit, type OpskitRateLimitOptions } from '@opskit/rate-limit'
import { DATABASE_KIND, DATABASE_URL, testTables } from '../../../test-utils/env-database.js'
import { logCapture, WARN } from '../../../test-utils/server-log-capture.js'

const tables = testTables('security_logs_rl')
let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})
afterAll(async () => {
  await tables.drop()
})

/** With the real @opskit/metrics and @opskit/security-log (PostgreSQL at DATABASE_URL, else embedded PGlite). */
async function build(options: OpskitRateLimitOptions) {
  const capture = logCapture()
  const table = tables.name()
  const instance = Fastify({ logger: { level: 'info', stream: capture.stream } })
  await instance.register(opskitCore)
  await instance.register(opskitMetrics, { defaultMetrics: false })
  await instance.register(opskitSecurityLog, { connection: DATABASE_URL, table })
  await instance.register(opskitRateLimit, options)
  instance.get('/items/:id', async () => ({ ok: true }))
  app = instance
  return { app: instance, lines: capture.lines }
}

async function hits(instance: FastifyInstance, n: number) {
  const statuses: number[] = []
  for (let i = 0; i < n; i++) statuses.push((await instance.inject({ url: `/items/${i}`, remoteAddress: '10.5.0.1' })).statusCode)
  return statuses
}

describe(`shadow: true (with the real @opskit/metrics and @opskit/security-log on ${DATABASE_KIND})`, () => {
  it('rejects nothing; what would have been a 429 is logged, counted and recorded as shadow, the real counter untouched', async () => {
    const { app, lines } = await build({ shadow: true, max: 2, timeWindow: '1 minute', headers: 'both' })
    expect(await hits(app, 5)).toEqual([200, 200, 200, 200, 200])

    const over = await app.inject({ url: '/items/9', remoteAddress: '10.5.0.1' })
    expect(over.statusCode).toBe(200)
    expect(over.headers['retry-after']).toBeUndefined()
    // the headers still describe the limit being tried
    expect(over.headers['x-ratelimit-remaining']).toBe('0')
    expect(over.headers.ratelimit).toMatch(/^"default";r=0;t=\d+$/)

    const warns = lines.filter((l) => l.level === WARN && l.msg.startsWith('Rate limit hit'))
    expect(warns).toHaveLength(4)
    expect(warns[0]).toMatchObject({ msg: 'Rate limit hit on GET /items/2 from 10.5.0.1', shadow: true, route: '/items/:id', limit: 2, policy: 'default' })

    const metrics = (await app.inject('/metrics')).body
    expect(metrics).toContain('rate_limit_shadow_rejections_total{route="/items/:id"} 4')
    expect(metrics).not.toMatch(/^rate_limit_rejections_total\{/m)

    await app.securityLog.flush()
    const { items, total } = await app.securityLog.query({ action: 'rate_limit_hit' })
    expect(total).toBe(4)
    for (const item of items) {
      expect(item).toMatchObject({ severity: 'warning', ip_address: '10.5.0.1', details: { shadow: true, limit: 2, route: '/items/:id', policy: 'default' } })
    }
  })

  it('without shadow the same traffic is rejected, counted in rate_limit_rejections_total and recorded without the shadow mark', async () => {
    const { app, lines } = await build({ max: 2, timeWindow: '1 minute' })
    expect(await hits(app, 4)).toEqual([200, 200, 429, 429])
    const warns = lines.filter((l) => l.level === WARN && l.msg.startsWith('Rate limit hit'))
    expect(warns).toHaveLength(2)
    expect(warns[0]!.shadow).toBeUndefined()
    const metrics = (await app.inject('/metrics')).body
    expect(metrics).toContain('rate_limit_rejections_total{route="/items/:id"} 2')
    expect(metrics).not.toMatch(/^rate_limit_shadow_rejections_total\{/m)
    await app.securityLog.flush()
    const { items, total } = await app.securityLog.query({ action: 'rate_limit_hit' })
    expect(total).toBe(2)
    expect(items[0]!.details).not.toHaveProperty('shadow')
  })

  it('shadow with the sliding window: the same decisions as the real limiter would take', async () => {
    const { app } = await build({ shadow: true, algorithm: 'sliding', max: 3 })
    await hits(app, 6)
    const metrics = (await app.inject('/metrics')).body
    expect(metrics).toContain('rate_limit_shadow_rejections_total{route="/items/:id"} 3')
  })
})
