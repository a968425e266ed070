import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { opskitMetrics } from '@opskit/metrics'
import type { FastifyInstance } from 'fastify'
import { telegramSink, webhookSink } from '@opskit/security-log'
import type { Alert, AlertSink } from '@opskit/security-log'
import { STORE, buildApp, captureLogs, closedPort, dropTables, startReceiver, uniqueName } from './helpers.js'
import type { Receiver } from './helpers.js'

const tables: string[] = []
function table(): string {
  const name = uniqueName('security_logs_alert')
  tables.push(name)
  return name
}

const BOT_TOKEN = '123456:AAF-very-secret-bot-token'

/** A sink whose answers the test scripts: each call takes the next outcome ('ok' | 'fail' | 'hang'). */
function scriptedSink(outcomes: Array<'ok' | 'fail'>): AlertSink & { calls: Alert[] } {
  const calls: Alert[] = []
  return {
    name: 'scripted',
    calls,
    async send(alert) {
      const outcome = outcomes[calls.length] ?? 'ok'
      calls.push(alert)
      if (outcome === 'fail') throw new Error(`sink down (call ${calls.length})`)
    },
  }
}

describe(`alert sinks (${STORE})`, () => {
  let app: FastifyInstance | undefined
  let receiver: Receiver | undefined
  afterEach(async () => {
    vi.useRealTimers()
    await app?.close()
    app = undefined
    await receiver?.close()
    receiver = undefined
  })
  afterAll(() => dropTables(tables))

  it('webhookSink POSTs the alert as JSON with masked e-mail and redacted details to a local server', async () => {
    receiver = await startReceiver()
    app = await buildApp({ table: table(), alerts: { sinks: [webhookSink(`${receiver.url}/hooks/security`, { headers: { 'x-alert-key': 'k1' } })] } })
    app.post('/lock', async (request) => request.securityEvent('account_locked', { email: 'dave@example.com', details: { password: 'pw-123', attempts: 12 } }))
    await app.inject({ method: 'POST', url: '/lock', headers: { 'x-user': 'u9', 'x-forwarded-for': '203.0.113.9' } })
    await receiver.received(1)
    const [req] = receiver.requests
    expect(req).toMatchObject({ method: 'POST', url: '/hooks/security', headers: { 'content-type': 'application/json', 'x-alert-key': 'k1' } })
    expect(req!.body).toMatchObject({
      title: 'Security alert: account_locked (critical)',
      action: 'account_locked',
      severity: 'critical',
      event: { user_id: 'u9', user_email: 'd***e@example.com', ip_address: '203.0.113.9', request_path: '/lock', details: { password: '[REDACTED]', attempts: 12 } },
    })
    expect(req!.body.text).toContain('account_locked')
    expect(JSON.stringify(req!.body)).not.toContain('dave@example.com')
    expect(JSON.stringify(req!.body)).not.toContain('pw-123')
  })

  it('webhookSink: a non-2xx answer, a timeout and a refused connection are retried and logged, never with the URL', async () => {
    // 1st request: 503; 2nd: never answered (the sink's timeout); 3rd: 200.
    receiver = await startReceiver((_req, index) => (index === 0 ? { status: 503 } : index === 1 ? 'hang' : { status: 200 }))
    const closedHost = `127.0.0.1:${await closedPort()}` // nothing listens there: connections are refused
    const logs = captureLogs()
    const secretPath = '/services/T000/B000/XyZsecretHookPath'
    app = await buildApp({
      table: table(),
      alerts: {
        sinks: [webhookSink(`${receiver.url}${secretPath}`, { timeoutMs: 500 }), webhookSink(`http://${closedHost}${secretPath}`)],
        retries: 2,
        retryBaseMs: 5,
      },
    }, { logs })
    await app.securityLog.record({ action: 'account_locked' })
    const host = new URL(receiver.url).host
    await Promise.all([
      logs.line((l) => l.sink === `webhook(${host})` && l.level === 30),
      logs.line((l) => l.sink === `webhook(${closedHost})` && l.level === 50),
    ])
    expect(receiver.requests.map((r) => r.url)).toEqual([secretPath, secretPath, secretPath])
    const local = logs.lines().filter((l) => l.sink === `webhook(${host})`)
    expect(local.map((l) => [l.level, l.err?.message])).toEqual([
      [40, 'webhook answered HTTP 503'],
      [40, 'webhook delivery failed: timeout'],
      [30, undefined], // delivered after retrying
    ])
    const refused = logs.lines().filter((l) => l.sink === `webhook(${closedHost})`)
    expect(refused.map((l) => [l.level, l.err?.message])).toEqual([
      [40, 'webhook delivery failed: ECONNREFUSED'],
      [40, 'webhook delivery failed: ECONNREFUSED'],
      [50, 'webhook delivery failed: ECONNREFUSED'],
    ])
    expect(logs.text()).not.toContain('XyZsecretHookPath')
  })

  it('telegramSink calls sendMessage on the API base URL, and never logs the bot token when it fails', async () => {
    let answer = { status: 200, body: { ok: true, result: {} } as unknown }
    receiver = await startReceiver(() => answer)
    const logs = captureLogs()
    app = await buildApp({
      table: table(),
      alerts: { sinks: [telegramSink({ botToken: BOT_TOKEN, chatId: -1001234, apiBaseUrl: receiver.url })], cooldownMs: 0, retries: 1, retryBaseMs: 5 },
    }, { logs })
    await app.securityLog.record({ action: 'tenant_violation', userId: 'u1', details: { tenant: 't2' } })
    await receiver.received(1)
    expect(receiver.requests[0]).toMatchObject({ method: 'POST', url: `/bot${BOT_TOKEN}/sendMessage`, body: { chat_id: -1001234, disable_web_page_preview: true } })
    expect(receiver.requests[0]!.body.text).toContain('Security alert: tenant_violation (critical)')
    expect(receiver.requests[0]!.body.text).toContain('"tenant":"t2"')

    answer = { status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } }
    await app.securityLog.record({ action: 'account_locked' })
    await logs.line((l) => typeof l.msg === 'string' && l.msg.includes('giving up'))
    expect(receiver.requests).toHaveLength(3)
    const failures = logs.lines().filter((l) => l.sink === 'telegram')
    expect(failures.map((l) => l.level)).toEqual([40, 50])
    expect(failures[1]!.err.message).toContain('HTTP 401: Unauthorized')
    expect(logs.text()).not.toContain(BOT_TOKEN)
    expect(logs.text()).not.toContain('AAF-very-secret')
  })

  it('routes by minSeverity and sends the same action once per cooldown', async () => {
    const sink = scriptedSink([])
    app = await buildApp({ table: table(), alerts: { sinks: [sink], minSeverity: 'warning', cooldownMs: 60_000 } })
    await app.securityLog.record({ action: 'login_success' }) // info: below minSeverity
    await app.securityLog.record({ action: 'login_failure' }) // warning: alerts
    await app.securityLog.record({ action: 'login_failure' }) // same action inside the cooldown
    await app.securityLog.record({ action: 'account_locked' }) // another action
    for (let i = 0; i < 20; i++) await app.securityLog.record({ action: 'account_locked' })
    // A delivery's first attempt starts inside record(): every call there will be is here.
    expect(sink.calls.map((a) => a.action)).toEqual(['login_failure', 'account_locked'])
  })

  it('sends again once the cooldown is over, not a millisecond before', async () => {
    // Only the clock is fake: the database and the sockets run as they do.
    vi.useFakeTimers({ toFake: ['Date'] })
    const sink = scriptedSink([])
    app = await buildApp({ table: table(), alerts: { sinks: [sink], cooldownMs: 60_000 } })
    const start = Date.now()
    await app.securityLog.record({ action: 'account_locked' })
    await app.securityLog.record({ action: 'account_locked' })
    vi.setSystemTime(start + 59_999)
    await app.securityLog.record({ action: 'account_locked' })
    expect(sink.calls).toHaveLength(1)
    vi.setSystemTime(start + 60_000)
    await app.securityLog.record({ action: 'account_locked' })
    expect(sink.calls).toHaveLength(2)
  })

  it('a failing sink is retried with backoff in the background and never blocks the request', async () => {
    const logs = captureLogs()
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    const slow: AlertSink & { calls: number } = {
      name: 'slow',
      calls: 0,
      async send() {
        this.calls++
        if (this.calls === 1) await gate // the first delivery hangs until the test releases it...
        if (this.calls <= 2) throw new Error('sink down') // ...then fails, and so does the second
      },
    }
    app = await buildApp({ table: table(), alerts: { sinks: [slow], retries: 3, retryBaseMs: 10 } }, { logs })
    app.post('/lock', async (request) => {
      await request.securityEvent('account_locked', { userId: 'u1' })
      return { locked: true }
    })
    const res = await app.inject({ method: 'POST', url: '/lock' })
    expect(res.json()).toEqual({ locked: true }) // answered while the sink is still hanging
    expect(slow.calls).toBe(1)
    release()
    await logs.line((l) => l.msg === '@opskit/security-log: security alert delivered after retrying')
    expect(slow.calls).toBe(3)
    const sinkLines = logs.lines().filter((l) => l.sink === 'slow')
    expect(sinkLines.map((l) => [l.level, l.attempt])).toEqual([[40, 1], [40, 2], [30, 3]])
  })

  it('with @opskit/metrics, delivered alerts count in alerts_sent_total and failed attempts in alerts_delivery_failures_total', async () => {
    const logs = captureLogs()
    const sink = scriptedSink(['fail', 'fail'])
    app = await buildApp({ table: table(), alerts: { sinks: [sink], retries: 3, retryBaseMs: 5 } }, {
      logs,
      setup: async (instance) => { await instance.register(opskitMetrics, { defaultMetrics: false }) },
    })
    await app.ready()
    await app.securityLog.record({ action: 'account_locked' })
    await logs.line((l) => l.msg === '@opskit/security-log: security alert delivered after retrying')
    expect(sink.calls).toHaveLength(3)
    const metrics = (await app.inject('/metrics')).body
    expect(metrics).toContain('alerts_sent_total{alert="account_locked",sink="scripted",kind="firing"} 1')
    expect(metrics).toContain('alerts_delivery_failures_total{sink="scripted"} 2')
  })

  it('close() does not wait for backoff: a pending retry gets one last immediate attempt, then gives up', async () => {
    const logs = captureLogs()
    const sink = scriptedSink(['fail', 'fail', 'fail'])
    app = await buildApp({ table: table(), alerts: { sinks: [sink], retries: 5, retryBaseMs: 60_000 } }, { logs })
    await app.securityLog.record({ action: 'account_locked' })
    expect(sink.calls).toHaveLength(1)
    const started = Date.now()
    await app.close()
    app = undefined
    expect(Date.now() - started).toBeLessThan(10_000) // far below the 60 s backoff
    // close() returned after the last attempt settled (within alerts.closeTimeoutMs): nothing later.
    expect(sink.calls).toHaveLength(2) // the first try, plus one last try at close instead of the 60 s wait
    expect(logs.lines().filter((l) => typeof l.msg === 'string' && l.msg.includes('giving up'))).toHaveLength(1)
  })
})
