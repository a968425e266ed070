import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
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
