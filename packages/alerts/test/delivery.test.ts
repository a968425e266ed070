import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { emailSink, FST_OPSKIT_ALERTS_INVALID_OPTION, opskitAlerts, telegramSink, webhookSink } from '../src/index.js'
import { buildApp } from './build.js'
import { captureLogs, closedPort, REDIS_URL, startReceiver } from './helpers.js'
import type { Receiver } from './helpers.js'
import Fastify from 'fastify'

const BOT_TOKEN = '987654:AAE-secret-bot-token'

const failing = { db: async () => Promise.reject(new Error('down')) }

describe('sinks that are down', () => {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => {
    vi.useRealTimers()
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })
  async function receiver(respond?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
    const r = await startReceiver(respond)
    cleanup.push(() => r.close())
    return r
  }
  function track(app: FastifyInstance): FastifyInstance {
    cleanup.push(() => app.close())
    return app
  }

  it('Telegram answering 500 is retried with backoff and recovers; deliveries and failures are counted apart', async () => {
    const telegram = await receiver((_req, i) => (i < 2 ? { status: 500, body: { ok: false, description: `boom for bot${BOT_TOKEN}` } } : { status: 200, body: { ok: true } }))
    const logs = captureLogs()
    const app = track(await buildApp({ sinks: [telegramSink({ botToken: BOT_TOKEN, chatId: 7, apiBaseUrl: telegram.url })], retries: 3, retryBaseMs: 5, rules: { service_down: false } }, { checks: failing, logs }))
    await app.alerts.evaluate()
    await telegram.received(3)
    await vi.waitFor(() => expect(app.alerts.history()[0]!.deliveries).toEqual({ telegram: 'sent' }))
    const metrics = (await app.inject('/metrics')).body
    expect(metrics).toContain('alerts_sent_total{alert="check_down",sink="telegram",kind="firing"} 1')
    expect(metrics).toContain('alerts_delivery_failures_total{sink="telegram"} 2')
    expect(metrics).toContain('alerts_firing{alert="check_down"} 1')
    const retries = logs.lines().filter((l) => l.msg === '@opskit/alerts: alert sink telegram failed, retrying')
    expect(retries).toHaveLength(2)
    expect(retries[0]).toMatchObject({ level: 40, logger: 'alerts', alert: 'check_down', sink: 'telegram' })
    expect(retries[0]).not.toHaveProperty('request_id')
    expect(logs.text()).not.toContain(BOT_TOKEN)
  })

  it('every sink down (Telegram 500, SMTP refused, webhook timeout): the alert is still in history(), requests are not blocked, close() stays bounded', async () => {
    const telegram = await receiver(() => ({ status: 500 }))
    const hanging = await receiver(() => 'hang')
    const smtpPort = await closedPort()
    const logs = captureLogs()
    const app = await buildApp(
      {
        sinks: [
          telegramSink({ botToken: BOT_TOKEN, chatId: 7, apiBaseUrl: telegram.url }),
          webhookSink(`${hanging.url}/hook`, { timeoutMs: 60_000 }),
          emailSink({ url: `smtp://u:smtp-pass@127.0.0.1:${smtpPort}`, from: 'a@example.com', to: 'b@example.com' }),
        ],
        retries: 2,
        retryBaseMs: 5,
        closeTimeoutMs: 300,
      },
      { checks: failing, logs, routes: (a) => a.get('/ping', async () => 'pong') },
    )
    await app.alerts.evaluate()
    const started = performance.now()
    expect((await app.inject('/ping')).body).toBe('pong')
    expect(performance.now() - started).toBeLessThan(1000)
    await vi.waitFor(() => expect(app.alerts.history()[0]!.deliveries).toMatchObject({ telegram: 'failed', email: 'failed' }), { timeout: 10_000 })
    expect(app.alerts.history()).toMatchObject([{ alert: 'check_down', kind: 'firing', deliveries: { [`webhook(${new URL(hanging.url).host})`]: 'pending' } }])
    const metrics = (await app.inject('/metrics')).body
    expect(metrics).toContain('alerts_delivery_failures_total{sink="telegram"} 3')
    expect(metrics).toContain('alerts_delivery_failures_total{sink="email"} 3')
    expect(metrics).not.toMatch(/alerts_sent_total\{[^}]*\} [1-9]/)
    const gaveUp = logs.lines().filter((l) => /giving up/.test(l.msg)).map((l) => l.sink)
    expect(gaveUp.sort()).toEqual(['email', 'telegram'])
    expect(logs.text()).not.toContain('smtp-pass')
    expect(logs.lines().find((l) => l.sink === 'email')!.err.message).toBe('smtp delivery failed: ESOCKET ECONNREFUSED')

    const closing = performance.now()
    await app.close()
    expect(performance.now() - closing).toBeLessThan(2000)
    expect(logs.lines().some((l) => l.msg === '@opskit/alerts: closing with alerts still being delivered' && l.pending === 1)).toBe(true)
  })

  it('a webhook timeout is retried and counted', async () => {
    const hook = await receiver((_req, i) => (i === 0 ? 'hang' : { status: 200 }))
    const app = track(await buildApp({ sinks: [webhookSink(hook.url, { timeoutMs: 200, name: 'ops-hook' })], retryBaseMs: 5, rules: { service_down: false } }, { checks: failing }))
    await app.alerts.evaluate()
    await hook.received(2)
    await vi.waitFor(() => expect(app.alerts.history()[0]!.deliveries).toEqual({ 'ops-hook': 'sent' }))
    expect((await app.inject('/metrics')).body).toContain('alerts_delivery_failures_total{sink="ops-hook"} 1')
  })
})

describe.skipIf(REDIS_URL === undefined)('two instances of one service with Redis', () => {
  it('send each alert once between them: one firing, one resolved', async () => {
    const prefix = `opskit:alerts-test:${process.pid}:${Date.now()}:`
    const telegram = await startReceiver()
    let down = true
    const checks = { db: async () => (down ? Promise.reject(new Error('down')) : undefined) }
    const options = { sinks: [telegramSink({ botToken: BOT_TOKEN, chatId: 1, apiBaseUrl: telegram.url })], redis: REDIS_URL!, keyPrefix: prefix, rules: { service_down: false as const } }
    const a = await buildApp(options, { checks })
    const b = await buildApp(options, { checks })
    try {
      await Promise.all([a.alerts.evaluate(), b.alerts.evaluate()])
      await b.alerts.evaluate()
      expect(a.alerts.firing()).toHaveLength(1)
      expect(b.alerts.firing()).toHaveLength(1)
      down = false
      await Promise.all([a.alerts.evaluate(), b.alerts.evaluate()])
      await telegram.received(2)
      await Promise.all([a, b].map((app) => vi.waitFor(() => expect(app.alerts.history().every((e) => !Object.values(e.deliveries).includes('pending'))).toBe(true))))
      expect(telegram.requests.map((r) => r.body.text.split('\n')[0])).toEqual(['[critical] check_down db: check db failed: down', '[resolved] check_down db'])
      const suppressed = [...a.alerts.history(), ...b.alerts.history()].filter((e) => e.suppressed === 'other_instance')
      expect(suppressed.map((e) => e.kind).sort()).toEqual(['firing', 'resolved'])
      // The next episode is sent again.
      down = true
      await Promise.all([a.alerts.evaluate(), b.alerts.evaluate()])
      await telegram.received(3)
    } finally {
      await a.close()
      await b.close()
      await telegram.close()
      const redis = new Redis(REDIS_URL!)
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
      redis.disconnect()
    }
  })
})
if (REDIS_URL === undefined) console.log('[alerts] REDIS_URL not set: skipped the two-instance Redis test')

describe('GET /alerts, options and timers', () => {
  let app: FastifyInstance | undefined
  afterEach(async () => {
    vi.useRealTimers()
    await app?.close()
    app = undefined
  })

  it('GET /alerts: 401 without an actor, 403 when authorize says no, else firing and history', async () => {
    const hook = await startReceiver()
    try {
      app = await buildApp({ sinks: [webhookSink(hook.url)], routes: { authorize: (req) => req.actor?.role === 'ops' } }, { checks: failing })
      await app.alerts.evaluate()
      expect((await app.inject('/alerts')).statusCode).toBe(401)
      const forbidden = await app.inject({ url: '/alerts', headers: { 'x-user': 'u1', 'x-role': 'dev' } })
      expect(forbidden.statusCode).toBe(403)
      expect(forbidden.json()).toMatchObject({ code: 'FST_OPSKIT_ALERTS_FORBIDDEN' })
      const ok = await app.inject({ url: '/alerts', headers: { 'x-user': 'u1', 'x-role': 'ops' } })
      expect(ok.statusCode).toBe(200)
      await hook.received(1)
      await vi.waitFor(() => expect(app!.alerts.history()[0]!.deliveries).toEqual({ [`webhook(${new URL(hook.url).host})`]: 'sent' }))
      const body = (await app.inject({ url: '/alerts', headers: { 'x-user': 'u1', 'x-role': 'ops' } })).json()
      expect(body).toMatchObject({
        firing: [{ alert: 'check_down', severity: 'critical', details: { check: 'db', error: 'down' } }],
        history: [{ alert: 'check_down', kind: 'firing', service: 'shop', details: { check: 'db' }, deliveries: { [`webhook(${new URL(hook.url).host})`]: 'sent' } }],
      })
    } finally {
      await hook.close()
    }
  })

  it('no route without authorize', async () => {
    app = await buildApp({ sinks: [] })
    expect((await app.inject('/alerts')).statusCode).toBe(404)
  })

  it('refuses unknown and bad options at register(), naming them', async () => {
    const bad = async (opts: unknown) => {
      const a = Fastify()
      try {
        await a.register(opskitAlerts, opts as never)
        await a.ready()
      } finally {
        await a.close()
      }
    }
    await expect(bad({ sinks: [], everyMS: 5 })).rejects.toThrow(/invalid option "everyMS"/)
    await expect(bad({ sinks: [], rules: { check_down: { cooldown: 1 } } })).rejects.toThrow(/"rules.check_down.cooldown"/)
    await expect(bad({ sinks: [], rules: { cpu: false } })).rejects.toThrow(/"rules.cpu"/)
    await expect(bad({ sinks: [], summary: { timeZone: 'Mars/Base' } })).rejects.toThrow(/"summary.timeZone"/)
    await expect(bad({ sinks: [], custom: [{ name: 'x', severity: 'loud', evaluate: () => true }] })).rejects.toThrow(/"custom\[0\].severity"/)
    await expect(bad({ sinks: 'telegram' })).rejects.toBeInstanceOf(FST_OPSKIT_ALERTS_INVALID_OPTION)
    expect(() => telegramSink({ botToken: '', chatId: 1 })).toThrow(/telegramSink.botToken/)
    expect(() => webhookSink('ftp://x')).toThrow(/webhookSink.url/)
    expect(() => emailSink({ url: 'http://x', from: 'a@b.c', to: 'd@e.f' })).toThrow(/emailSink.url/)
  })

  it('evaluates every everyMs on an unref\'d timer that close() clears', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    let calls = 0
    app = await buildApp({ sinks: [], everyMs: 1000, custom: [{ name: 'tick', severity: 'info', evaluate: () => (calls++, false) }] })
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(3000)
    expect(calls).toBe(3)
    await app.close()
    app = undefined
    expect(vi.getTimerCount()).toBe(0)
  })
})
