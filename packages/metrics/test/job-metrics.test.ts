import { afterEach, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { runJob } from '@opskit/core'
import { buildApp, hasPromtool, promtoolCheckMetrics, valueOf } from './helpers.js'

const apps: FastifyInstance[] = []
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()))
})

async function build(): Promise<FastifyInstance> {
  const app = await buildApp({ defaultMetrics: false })
  apps.push(app)
  return app
}

describe('job metrics', () => {
  it('counts jobs_total{job,status} and times job_duration_seconds{job}, failed jobs included', async () => {
    const app = await build()
    await app.ready()
    await runJob('sync-posts', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20))
    })
    await runJob('sync-posts', () => 'again')
    await runJob('webhook', () => {
      throw new Error('bad payload')
    }).catch(() => undefined)
    const text = (await app.inject('/metrics')).body
    expect(valueOf(text, 'jobs_total{job="sync-posts",status="ok"}')).toBe(2)
    expect(valueOf(text, 'jobs_total{job="webhook",status="failed"}')).toBe(1)
    expect(valueOf(text, 'jobs_total{job="sync-posts",status="failed"}')).toBeUndefined()
    expect(valueOf(text, 'job_duration_seconds_count{job="sync-posts"}')).toBe(2)
    expect(valueOf(text, 'job_duration_seconds_count{job="webhook"}')).toBe(1)
    expect(valueOf(text, 'job_duration_seconds_sum{job="sync-posts"}')).toBeGreaterThanOrEqual(0.015)
    expect(valueOf(text, 'job_duration_seconds_bucket{le="0.01",job="sync-posts"}')).toBe(1)
    expect(valueOf(text, 'job_duration_seconds_bucket{le="3600",job="sync-posts"}')).toBe(2)
    if (hasPromtool) expect((await promtoolCheckMetrics(text)).code).toBe(0)
  })

  it('two instances: a job run in a request of one counts in that one only; after close, none', async () => {
    const a = await build()
    const b = await build()
    a.get('/work', () => runJob('report', () => 'done'))
    await b.ready()
    await a.inject('/work')
    expect(valueOf((await a.inject('/metrics')).body, 'jobs_total{job="report",status="ok"}')).toBe(1)
    expect(valueOf((await b.inject('/metrics')).body, 'jobs_total{job="report",status="ok"}')).toBeUndefined()
    await runJob('picked', () => undefined, { app: b })
    expect(valueOf((await b.inject('/metrics')).body, 'jobs_total{job="picked",status="ok"}')).toBe(1)
    expect(valueOf((await a.inject('/metrics')).body, 'jobs_total{job="picked",status="ok"}')).toBeUndefined()
    await b.close()
    await runJob('after-close', () => undefined)
    expect(valueOf((await a.inject('/metrics')).body, 'jobs_total{job="after-close",status="ok"}')).toBe(1)
  })

  it('the two names are published (HELP and TYPE) before any job ran', async () => {
    const app = await build()
    const text = (await app.inject('/metrics')).body
    expect(text).toContain('# TYPE jobs_total counter')
    expect(text).toContain('# TYPE job_duration_seconds histogram')
  })
})
