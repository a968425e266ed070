import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { OPSKIT_METRICS } from '@opskit/metrics'
import { hasPromtool } from './helpers.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const dashboard = JSON.parse(readFileSync(`${root}dashboards/opskit-overview.json`, 'utf8')) as {
  uid: string
  panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>
}

if (!hasPromtool) console.warn('[@opskit/metrics] promtool not found: skipped "alert rules pass promtool check/test rules" (.ci/promtool.sh installs it)')

describe('dashboards/opskit-overview.json', () => {
  const exprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr))

  it.each([
    ['request rate', /rate\(http_requests_total\{/],
    ['error rate', /status_code=~"5\.\."/],
    ['p50 latency by route', /histogram_quantile\(0\.5, sum by \(route, le\)/],
    ['p95 latency by route', /histogram_quantile\(0\.95, sum by \(route, le\)/],
    ['p99 latency by route', /histogram_quantile\(0\.99, sum by \(route, le\)/],
    ['in-flight', /http_requests_in_flight/],
    ['rate-limit rejections', /rate_limit_rejections_total/],
    ['health status', /health_check_status/],
    ['audit queue', /audit_queue_depth/],
    ['lost security events', /security_events_not_stored_total/],
    ['lost audit events', /audit_events_not_stored_total/],
  ])('has a %s panel', (_name, pattern) => {
    expect(exprs.some((expr) => pattern.test(expr))).toBe(true)
  })

  it('queries only metrics that opskit or prom-client publish', () => {
    const published = new Set([
      'http_requests_total', 'http_request_duration_seconds_bucket', 'http_requests_in_flight', 'up',
      'process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds',
      ...Object.values(OPSKIT_METRICS).map((metric) => metric.name),
    ])
    const used = new Set(exprs.flatMap((expr) => [...expr.matchAll(/([a-z_:][a-z0-9_:]*)\{/g)].map((m) => m[1] as string)))
    for (const name of used) expect(published, `${name} is not published`).toContain(name)
    expect(new Set(dashboard.panels.map((panel) => panel.title)).size).toBe(dashboard.panels.length)
  })
})

describe('prometheus/alerts.yml', () => {
  it.skipIf(!hasPromtool)('passes promtool check rules and its promtool unit tests', () => {
    const check = spawnSync('promtool', ['check', 'rules', `${root}prometheus/alerts.yml`], { encoding: 'utf8' })
    expect(check.status, check.stdout + check.stderr).toBe(0)
    const test = spawnSync('promtool', ['test', 'rules', `${root}prometheus/alerts.test.yml`], { encoding: 'utf8' })
    expect(test.status, test.stdout + test.stderr).toBe(0)
  })
})
