import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { emailSink, telegramSink, webhookSink } from '../src/index.js'
import { buildApp } from './build.js'
import { startReceiver, startSmtp } from './helpers.js'
import type { Receiver, SmtpReceiver } from './helpers.js'

const BOT_TOKEN = '123456:AAF-test-bot-token'

describe('alerts lifecycle, delivered to local Telegram, webhook and SMTP servers', () => {
  let app: FastifyInstance | undefined
  let telegram: Receiver
  let webhook: Receiver
  let smtp: SmtpReceiver

  beforeEach(async () => {
    telegram = await startReceiver()
    webhook = await startReceiver(() => ({ status: 204 }))
    smtp = await startSmtp()
  })
  afterEach(async () => {
    vi.useRealTimers()
    await app?.close()
    app = undefined
    await Promise.all([telegram.close(), webhook.close(), smtp.close()])
  })

  function sinks() {
    return [
      telegramSink({ botToken: BOT_TOKEN, chatId: -1001, apiBaseUrl: telegram.url }),
      webhookSink(`${webhook.url}/hooks/alerts`),
      emailSink({ url: smtp.url, from: 'opskit <alerts@example.com>', to: 'oncall@example.com' }),
    ]
  }

  it('check_down: fires once to every sink, not again while firing inside its cooldown, then a resolved message', async () => {
    let dbDown = false
    app = await buildApp({ sinks: sinks(), rules: { service_down: false } }, {
      checks: {
        db: async () => {
          if (dbDown) throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
        },
      },
    })
    expect(await app.alerts.evaluate()).toEqual([])
    dbDown = true
    const firing = await app.alerts.evaluate()
    expect(firing).toMatchObject([{ alert: 'check_down', severity: 'critical', details: { check: 'db' } }])

    await Promise.all([telegram.received(1), webhook.received(1), smtp.received(1)])
    expect(telegram.requests[0]).toMatchObject({ method: 'POST', url: `/bot${BOT_TOKEN}/sendMessage`, body: { chat_id: -1001 } })
    const text: string = telegram.requests[0]!.body.text
    expect(text.startsWith('[critical] check_down db: check db failed: connect ECONNREFUSED 127.0.0.1:5432')).toBe(true)
    expect(text).toContain('service: shop (')
    expect(webhook.requests[0]!.body).toEqual({
      alert: 'check_down',
      severity: 'critical',
      kind: 'firing',
      service: 'shop',
      instance: expect.stringMatching(/:\d+$/),
      message: 'check db failed: connect ECONNREFUSED 127.0.0.1:5432',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      details: { check: 'db', error: 'connect ECONNREFUSED 127.0.0.1:5432', latency_ms: expect.any(Number) },
    })
    expect(smtp.mails[0]).toMatchObject({ from: 'alerts@example.com', to: ['oncall@example.com'], subject: '[critical] check_down db: check db failed: connect ECONNREFUSED 127.0.0.1:5432' })
    expect(smtp.mails[0]!.text.startsWith('[critical] check_down db:')).toBe(true)

    // Still down: nothing new inside the cooldown.
    await app.alerts.evaluate()
    await app.alerts.evaluate()
    dbDown = false
    expect(await app.alerts.evaluate()).toEqual([])
    await Promise.all([telegram.received(2), webhook.received(2), smtp.received(2)])
    expect(telegram.requests).toHaveLength(2)
    expect(telegram.requests[1]!.body.text.startsWith('[resolved] check_down db\n')).toBe(true)
    expect(webhook.requests[1]!.body).toMatchObject({ alert: 'check_down', kind: 'resolved', details: { check: 'db' } })
    expect(smtp.mails[1]!.subject).toBe('[resolved] check_down db')
    expect(app.alerts.history().map((e) => [e.alert, e.kind])).toEqual([['check_down', 'firing'], ['check_down', 'resolved']])
  })

  it('a firing alert is sent again once its cooldown has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-03-02T10:00:00Z'))
    app = await buildApp({ sinks: [webhookSink(webhook.url)], rules: { check_down: { cooldownMs: 60_000 } } }, {
      checks: { db: async () => Promise.reject(new Error('down')) },
    })
    await app.alerts.evaluate()
    vi.setSystemTime(new Date('2026-03-02T10:00:59Z'))
    await app.alerts.evaluate()
    vi.setSystemTime(new Date('2026-03-02T10:01:01Z'))
    await app.alerts.evaluate()
    await webhook.received(2)
    expect(webhook.requests.map((r) => r.body.kind)).toEqual(['firing', 'firing'])
    expect(webhook.requests[1]!.body.at).toBe('2026-03-02T10:01:01.000Z')
  })

  it('service_down fires after 3 failed readiness runs in a row, not before', async () => {
    app = await buildApp({ sinks: [webhookSink(webhook.url)], rules: { check_down: false } }, {
      checks: { db: async () => Promise.reject(new Error('down')) },
    })
    await app.alerts.evaluate()
    await app.alerts.evaluate()
    expect(app.alerts.firing()).toEqual([])
    await app.alerts.evaluate()
    expect(app.alerts.firing()).toMatchObject([{ alert: 'service_down', severity: 'critical', details: { failed_runs: 3, failing_checks: ['db'] } }])
    await webhook.received(1)
    expect(webhook.requests[0]!.body).toMatchObject({ alert: 'service_down', kind: 'firing' })
  })

  it('a non-critical check that fails (readiness "degraded") is no check_down', async () => {
    app = await buildApp({ sinks: [webhookSink(webhook.url)] }, {
      checks: { cache: { critical: false, check: async () => Promise.reject(new Error('down')) } },
    })
    expect(await app.alerts.evaluate()).toEqual([])
  })

  it('disk_space: warning at 85 %, escalates to critical at 95 % at once, resolves under 85 %', async () => {
    let used = 80
    app = await buildApp({ sinks: [webhookSink(webhook.url)] }, { checks: { disk: async () => ({ used_percent: used, path: '/' }) } })
    await app.alerts.evaluate()
    used = 90
    expect(await app.alerts.evaluate()).toMatchObject([{ alert: 'disk_space', severity: 'warning', details: { check: 'disk', used_percent: 90 } }])
    used = 96
    expect(await app.alerts.evaluate()).toMatchObject([{ alert: 'disk_space', severity: 'critical' }])
    used = 50
    await app.alerts.evaluate()
    await webhook.received(3)
    expect(webhook.requests.map((r) => [r.body.severity, r.body.kind])).toEqual([['warning', 'firing'], ['critical', 'firing'], ['critical', 'resolved']])
  })

  it('high_error_rate: more than 10 responses >= 500 in 5 min fire; 10 do not; it resolves once they leave the window', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-03-02T10:00:00Z'))
    app = await buildApp({ sinks: [webhookSink(webhook.url)] }, {
      routes: (a) => {
        a.get('/boom', async () => {
          throw new Error('boom')
        })
        a.get('/missing', async (_req, reply) => reply.code(404).send({ error: 'nope' }))
      },
    })
    await app.alerts.evaluate()
    for (let i = 0; i < 10; i++) await app.inject('/boom')
    for (let i = 0; i < 30; i++) await app.inject('/missing')
    expect(await app.alerts.evaluate()).toEqual([])
    await app.inject('/boom')
    expect(await app.alerts.evaluate()).toMatchObject([{ alert: 'high_error_rate', severity: 'error', details: { count: 11, threshold: 10 } }])
    vi.setSystemTime(new Date('2026-03-02T10:06:00Z'))
    expect(await app.alerts.evaluate()).toEqual([])
    await webhook.received(2)
    expect(webhook.requests.map((r) => [r.body.alert, r.body.kind])).toEqual([['high_error_rate', 'firing'], ['high_error_rate', 'resolved']])
    expect(webhook.requests[0]!.body.message).toBe('11 responses ≥ 500 in the last 5 min (threshold 10)')
  })

  it('slow_responses: the p95 of the window over the threshold fires (read from the duration histogram)', async () => {
    app = await buildApp({ sinks: [webhookSink(webhook.url)], rules: { slow_responses: { p95Seconds: 0.04, minRequests: 3 } } }, {
      routes: (a) => {
        a.get('/slow', async () => {
          await new Promise((r) => setTimeout(r, 120))
          return 'ok'
        })
        a.get('/fast', async () => 'ok')
      },
    })
    for (let i = 0; i < 20; i++) await app.inject('/fast')
    expect(await app.alerts.evaluate()).toEqual([])
    await Promise.all(Array.from({ length: 5 }, () => app!.inject('/slow')))
    const firing = await app.alerts.evaluate()
    expect(firing).toMatchObject([{ alert: 'slow_responses', severity: 'warning', details: { requests: 25 } }])
    expect(firing[0]!.details.p95_seconds).toBeGreaterThan(0.04)
  })

  it('custom rules have the same lifecycle and their own everyMs', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-03-02T10:00:00Z'))
    let queueDepth = 0
    let calls = 0
    app = await buildApp({
      sinks: [webhookSink(webhook.url)],
      custom: [{ name: 'queue_backlog', severity: 'warning', everyMs: 60_000, message: 'job queue over 1000', evaluate: () => (calls++, queueDepth > 1000) }],
    })
    await app.alerts.evaluate()
    queueDepth = 5000
    await app.alerts.evaluate()
    expect(calls).toBe(1)
    vi.setSystemTime(new Date('2026-03-02T10:01:00Z'))
    expect(await app.alerts.evaluate()).toMatchObject([{ alert: 'queue_backlog', severity: 'warning', message: 'job queue over 1000' }])
    queueDepth = 0
    vi.setSystemTime(new Date('2026-03-02T10:02:00Z'))
    await app.alerts.evaluate()
    await webhook.received(2)
    expect(webhook.requests.map((r) => `${r.body.alert}:${r.body.kind}`)).toEqual(['queue_backlog:firing', 'queue_backlog:resolved'])
  })

  it('daily summary: one digest at the hour in its time zone, with the alerts of the past 24 h', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-03-02T06:30:00Z')) // 07:30 in Berlin
    let down = true
    app = await buildApp(
      { sinks: [telegramSink({ botToken: BOT_TOKEN, chatId: 1, apiBaseUrl: telegram.url })], summary: { hour: 8, timeZone: 'Europe/Berlin', sinks: [emailSink({ url: smtp.url, from: 'alerts@example.com', to: ['a@example.com', 'b@example.com'] })] } },
      { checks: { redis: async () => (down ? Promise.reject(new Error('timeout')) : undefined) } },
    )
    await app.alerts.evaluate()
    down = false
    await app.alerts.evaluate()
    expect(smtp.mails).toHaveLength(0)
    vi.setSystemTime(new Date('2026-03-02T07:00:00Z')) // 08:00 in Berlin
    await app.alerts.evaluate()
    await app.alerts.evaluate()
    await smtp.received(1)
    expect(smtp.mails[0]!.to).toEqual(['a@example.com', 'b@example.com'])
    expect(smtp.mails[0]!.subject).toBe('[summary] shop: 1 alert in the past 24 h, 0 firing now')
    expect(smtp.mails[0]!.text).toContain('- [critical] check_down redis at 2026-03-02T06:30:00.000Z: check redis failed: timeout')
    expect(smtp.mails[0]!.text).toContain('- [resolved] check_down redis')
    vi.setSystemTime(new Date('2026-03-03T07:00:00Z'))
    await app.alerts.evaluate()
    await smtp.received(2)
    expect(app.alerts.history().filter((e) => e.kind === 'summary')).toHaveLength(2)
    expect(telegram.requests.map((r) => r.body.text.split('\n')[0])).toEqual(['[critical] check_down redis: check redis failed: timeout', '[resolved] check_down redis'])
  })
})
