import { describe, expect, it } from 'vitest'
import Fastify from 'fastify'
import { registerError } from '../../../test-utils/server-register.js'
import { FST_OPSKIT_SECURITY_LOG_INVALID_OPTION, FST_SECURITY_LOG_INVALID_OPTION, opskitSecurityLog, telegramSink, webhookSink } from '@opskit/security-log'

const register = (options: unknown): Promise<unknown> => registerError(opskitSecurityLog, options)

const sink = { name: 's', send: async () => undefined }

describe('options', () => {
  const cases: Array<[string, unknown]> = [
    ['table', { table: 'security logs; drop table x' }],
    ['connection', { connection: 42 }],
    ['migrate', { migrate: 'yes' }],
    ['autoCapture', { autoCapture: true }],
    ['autoCapture.validation', { autoCapture: { validation: 'on' } }],
    ['autoCapture.teapot', { autoCapture: { teapot: true } }],
    ['redact', { redact: 'password' }],
    ['redis', { redis: 'http://localhost' }],
    ['abuse.thresholds', { abuse: { windowMs: 1000 } }],
    ['abuse.thresholds.login_failure', { abuse: { thresholds: { login_failure: 0 } } }],
    ['abuse.windowMs', { abuse: { windowMs: -1, thresholds: { login_failure: 3 } } }],
    ['abuse.onSuspicious', { abuse: { thresholds: { login_failure: 3 }, onSuspicious: 'block' } }],
    ['abuse.keyBy', { abuse: { thresholds: { login_failure: 3 }, keyBy: ['email'] } }],
    ['alerts.sinks', { alerts: { sinks: [{ send: 'x' }] } }],
    ['alerts.minSeverity', { alerts: { sinks: [sink], minSeverity: 'high' } }],
    ['alerts.cooldownMs', { alerts: { sinks: [sink], cooldownMs: 1.5 } }],
    ['routes.authorize', { routes: { prefix: '/sec' } }],
    ['routes.prefix', { routes: { prefix: 'sec', authorize: () => true } }],
    ['queue.maxBatchSize', { queue: { maxBatchSize: 100_000 } }],
    ['tabel', { tabel: 'x' }],
    ['alerts.sink', { alerts: { sink: sink } }],
    ['queue.batchSize', { queue: { batchSize: 10 } }],
    ['spool.path', { spool: { path: '/tmp/x' } }],
    ['abuse.threshold', { abuse: { threshold: 3, thresholds: { login_failure: 3 } } }],
    ['routes', { routes: [] }],
  ]
  for (const [option, options] of cases) {
    it(`rejects a bad ${option} at register(), naming it`, async () => {
      const err = await register(options)
      expect(err).toBeInstanceOf(FST_OPSKIT_SECURITY_LOG_INVALID_OPTION)
      expect((err as { code: string }).code).toBe('FST_OPSKIT_SECURITY_LOG_INVALID_OPTION')
      expect((err as Error).message).toContain(`"${option}"`)
    })
  }

  it('accepts Fastify\'s own register options (prefix, logLevel) beside its own, as core, health and metrics do', async () => {
    expect(await register({ logLevel: 'warn' })).toBeUndefined()
  })

  it('keeps the first-edition FST_SECURITY_LOG_INVALID_OPTION as a deprecated alias of the same class', async () => {
    expect(FST_SECURITY_LOG_INVALID_OPTION).toBe(FST_OPSKIT_SECURITY_LOG_INVALID_OPTION)
    expect(await register({ migrate: 1 })).toBeInstanceOf(FST_SECURITY_LOG_INVALID_OPTION)
  })

  it('needs @opskit/core registered first', async () => {
    const app = Fastify()
    await expect(app.register(opskitSecurityLog).ready()).rejects.toThrow(/@opskit\/core/)
    await app.close()
  })

  it('sink factories validate their arguments', () => {
    expect(() => webhookSink('not a url')).toThrow(expect.objectContaining({ code: 'FST_OPSKIT_ALERTS_INVALID_OPTION', message: expect.stringMatching(/absolute http/) }))
    expect(() => webhookSink('ftp://example.com/x')).toThrow(/absolute http/)
    expect(() => telegramSink({ botToken: '', chatId: 1 })).toThrow(/botToken/)
    expect(() => telegramSink({ botToken: 't', chatId: '' })).toThrow(/chatId/)
    expect(webhookSink('https://hooks.example.com/services/T000/B000/SECRET').name).toBe('webhook(hooks.example.com)')
  })
})
