import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig, opskit, OpskitConfigError, serverOptions } from '@opskit/suite'

function problemsOf(env: Record<string, string>): OpskitConfigError {
  try {
    loadConfig(env)
  } catch (err) {
    expect(err).toBeInstanceOf(OpskitConfigError)
    return err as OpskitConfigError
  }
  throw new Error('loadConfig did not throw')
}

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
  const servers: Array<ReturnType<typeof createServer>> = []
  afterEach(async () => {
    await app?.close()
    app = undefined
    for (const s of servers.splice(0)) {
      s.closeAllConnections()
      await new Promise<void>((r) => s.close(() => r()))
    }
  })

  async function receiver(): Promise<{ url: string; bodies: string[]; received: (n: number) => Promise<void> }> {
    const bodies: string[] = []
    const waiters: Array<{ n: number; r: () => void }> = []
    const server = createServer((req, res) => {
      let raw = ''
      req.on('data', (c) => (raw += String(c)))
      req.on('end', () => {
        bodies.push(raw)
        for (const w of waiters) if (bodies.length >= w.n) w.r()
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"ok":true}')
      })
    })
    servers.push(server)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    return { url: `127.0.0.1:${port}`, bodies, received: (n) => (bodies.length >= n ? Promise.resolve() : new Promise<void>((r) => waiters.push({ n, r }))) }
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
    const instance = await build({ APP_NAME: 'bookings', SENTRY_DSN: `http://key@${ingest.url}/1`, ALERT_WEBHOOK_URL: `http://${hook.url}/alerts` })
    expect(instance.errorReports.enabled).toBe(true)
    expect((await instance.inject('/boom')).statusCode).toBe(500)
    await ingest.received(1)
    expect(ingest.bodies[0]).toContain('"route":"/boom"')
    instance.health.register('queue', async () => Promise.reject(new Error('queue down')))
    await instance.alerts.evaluate()
    await hook.received(1)
    expect(JSON.parse(hook.bodies[0]!)).toMatchObject({ alert: 'check_down', service: 'bookings', details: { check: 'queue' } })
  })
})
