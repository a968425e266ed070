import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { emailSink, telegramSink } from '../src/index.js'
import { buildApp } from './build.js'
import { startReceiver, startSmtp } from './helpers.js'
import type { Receiver, SmtpReceiver } from './helpers.js'

describe('sink severities and messages that bring their own text', () => {
  let app: FastifyInstance | undefined
  let telegram: Receiver
  let smtp: SmtpReceiver
  afterEach(async () => {
    await app?.close()
    app = undefined
    await telegram.close()
    await smtp.close()
  })

  it('Telegram for critical and error, e-mail for warnings: each sink gets only its severities', async () => {
    telegram = await startReceiver()
    smtp = await startSmtp()
    let used = 90
    app = await buildApp(
      {
        sinks: [
          telegramSink({ botToken: '1:t', chatId: 1, apiBaseUrl: telegram.url, severities: ['critical', 'error'] }),
          emailSink({ url: smtp.url, from: 'alerts@example.com', to: 'ops@example.com', severities: ['warning'] }),
        ],
      },
      { checks: { disk: async () => ({ used_percent: used }) } },
    )
    await app.alerts.evaluate() // warning
    await smtp.received(1)
    used = 97
    await app.alerts.evaluate() // critical
    await telegram.received(1)
    expect(smtp.mails.map((m) => m.subject)).toEqual(['[warning] disk_space disk: disk 90% full (warning at 85%)'])
    expect(telegram.requests.map((r) => r.body.text.split('\n')[0])).toEqual(['[critical] disk_space disk: disk 97% full (critical at 95%)'])
    expect(() => telegramSink({ botToken: '1:t', chatId: 1, severities: ['loud' as never] })).toThrow(/telegramSink.severities/)
  })

  it('emailSink sends a message with its own title and text (what security-log hands its sinks)', async () => {
    telegram = await startReceiver()
    smtp = await startSmtp()
    const sink = emailSink({ url: smtp.url, from: 'alerts@example.com', to: ['a@example.com'] })
    await sink.send({ title: 'Security alert: account_locked (critical)', text: 'Security alert: account_locked (critical)\nuser: u-1' })
    expect(smtp.mails[0]).toMatchObject({ subject: 'Security alert: account_locked (critical)', text: 'Security alert: account_locked (critical)\nuser: u-1' })
  })
})

describe('lines about alerts carry no request context', () => {
  it('evaluate() called from a handler logs without request_id or user_id', async () => {
    const { Writable } = await import('node:stream')
    const { default: Fastify } = await import('fastify')
    const { opskitCore, requestIdGenerator } = await import('@opskit/core')
    const { opskitLogging, createLogger, fastifyLoggingOptions } = await import('@opskit/logging')
    const { opskitHealth } = await import('@opskit/health')
    const { opskitAlerts } = await import('../src/index.js')
    const hook = await startReceiver()
    const chunks: string[] = []
    const destination = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb() } })
    const app = Fastify({ ...fastifyLoggingOptions(createLogger({ name: 'shop', destination })), genReqId: requestIdGenerator() })
    try {
      await app.register(opskitCore, { resolveActor: () => ({ id: 'u-9' }) })
      await app.register(opskitLogging)
      await app.register(opskitHealth, { checks: { db: async () => Promise.reject(new Error('down')) }, cacheMs: 0 })
      await app.register(opskitAlerts, { sinks: [(await import('../src/index.js')).webhookSink(hook.url)], rules: { service_down: false } })
      app.get('/evaluate', async (request) => {
        request.log.info('handler line')
        await app.alerts.evaluate()
        return 'ok'
      })
      await app.inject({ url: '/evaluate', headers: { 'x-request-id': 'req-eval-1' } })
      await hook.received(1)
      await vi.waitFor(() => expect(chunks.join('')).toContain('alert delivered'))
      const lines = chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(lines.find((l) => l.message === 'handler line' || l.msg === 'handler line')).toMatchObject({ request_id: 'req-eval-1' })
      const ours = lines.filter((l) => String(l.message ?? l.msg).startsWith('@opskit/alerts'))
      expect(ours.length).toBeGreaterThanOrEqual(2)
      for (const line of ours) {
        expect(line).not.toHaveProperty('request_id')
        expect(line).not.toHaveProperty('user_id')
      }
    } finally {
      await app.close()
      await hook.close()
    }
  })
})
