import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig, opskit, serverOptions } from '@opskit/suite'
import { configError as problemsOf } from '../../../test-utils/env-config.js'
import { startReceiver, type Receiver } from '../../../test-utils/http-receiver.js'


describe('loadConfig: error reports and alert sinks', () => {
  it('reads SENTRY_*, TELEGRAM_*, ALERT_WEBHOOK_URL, SMTP_URL and ALERT_EMAIL_*', () => {
    const config = loadConfig({
      ENVIRONMENT: 'production',
      SENTRY_DSN: 'https://abc123@o1.ingest.sentry.io/42',
      SENTRY_ENVIRONMENT: 'prod-eu',
      SENTRY_TRACES_SAMPLE_RATE: '0.25',
      TELEGRAM_BOT_TOKEN: '123456:AAE-abc_def',
      TELEGRAM_CHAT_ID: '-1001234567',
      ALERT_WEBHOOK_URL: 'https://hooks.example.com/T000/secret',
      SMTP_URL: 'smtp://alerts:pw@mail.example.com:587',
      ALERT_EMAIL_FROM: 'opskit <alerts@example.com>',
      ALERT_EMAIL_TO: 'oncall@example.com, lead@example.com',
    })
    expect(config.sentry).toEqual({ dsn: 'https://abc123@o1.ingest.sentry.io/42', environment: 'prod-eu', tracesSampleRate: 0.25 })
    expect(config.alertSinks).toEqual({
      telegram: { botToken: '123456:AAE-abc_def', chatId: '-1001234567' },
      webhookUrl: 'https://hooks.example.com/T000/secret',
      email: { url: 'smtp://alerts:pw@mail.example.com:587', from: 'opskit <alerts@example.com>', to: ['oncall@example.com', 'lead@example.com'] },
    })
    expect(loadConfig({})).not.toHaveProperty('sentry')
    expect(loadConfig({})).not.toHaveProperty('alertSinks')
  })

  it('one error names every bad variable and echoes no secret', () => {
    const err = problemsOf({
      SENTRY_DSN: 'nope-dsn-secret',
      SENTRY_TRACES_SAMPLE_RATE: '1.5',
      TELEGRAM_BOT_TOKEN: 'bad token secret',
      ALERT_WEBHOOK_URL: 'ftp://hook-secret',
      SMTP_URL: 'http://smtp-secret',
      ALERT_EMAIL_TO: 'not-an-address',
    })
    expect(err.problems.map((p) => p.variable).sort()).toEqual(
      ['ALERT_EMAIL_FROM', 'ALERT_EMAIL_TO', 'ALERT_WEBHOOK_URL', 'SENTRY_DSN', 'SENTRY_TRACES_SAMPLE_RATE', 'SMTP_URL', 'TELEGRAM_BOT_TOKEN', 'TELEGRAM_CHAT_ID'].sort(),
    )
    for (const secret of ['dsn-secret', 'token secret', 'hook-secret', 'smtp-secret']) expect(err.message).not.toContain(secret)
  })
})

describe('opskit: errorReports and alerts parts', () => {
  let app: FastifyInstance | undefined
  const receivers: Receiver[] = []
  afterEach(async () => {
    await app?.close()
    app = undefined
    for (const r of receivers.splice(0)) await r.close()
  })

  async function receiver(): Promise<Receiver> {
    const started = await startReceiver()
    receivers.push(started)
    return started
  }

  async function build(env: Record<string, string>): Promise<FastifyInstance> {
    const config = loadConfig(env)
    const instance = Fastify(serverOptions(config, { destination: { write: () => true } as never }))
    app = instance
    await instance.register(opskit, { config, audit: false, securityLog: false })
    instance.get('/boom', async () => {
      throw new Error('boom')
    })
    await instance.ready()
    return instance
  }

  it('both stay off without SENTRY_DSN and without a sink', async () => {
    const instance = await build({})
    expect(instance.hasDecorator('alerts')).toBe(false)
    expect(instance.hasDecorator('errorReports')).toBe(false)
  })

  it('SENTRY_DSN turns error reports on; ALERT_WEBHOOK_URL turns alerts on, named after APP_NAME', async () => {
    const ingest = await receiver()
    const hook = await receiver()
    const instance = await build({ APP_NAME: 'bookings', SENTRY_DSN: `http://key@${ingest.host}/1`, ALERT_WEBHOOK_URL: `${hook.url}/alerts` })
    expect(instance.errorReports.enabled).toBe(true)
    expect((await instance.inject('/boom')).statusCode).toBe(500)
    await ingest.received(1)
    expect(ingest.requests[0]?.body).toContain('"route":"/boom"')
    instance.health.register('queue', async () => Promise.reject(new Error('queue down')))
    await instance.alerts.evaluate()
    await hook.received(1)
    expect(hook.requests[0]?.body).toMatchObject({ alert: 'check_down', service: 'bookings', details: { check: 'queue' } })
  })
})
