import Fastify from 'fastify'
import { opskitCore } from '@opskit/core'
import { describe, expect, it } from 'vitest'
import { FST_RATE_LIMIT_INVALID_OPTION, opskitRateLimit, rateLimitOptionsFromEnv } from '@opskit/rate-limit'
import { parseDuration } from '../src/duration.js'
import { expectOptionError, registerError } from '../../../test-utils/server-register.js'

const register = (options: unknown): Promise<unknown> => registerError(opskitRateLimit, options)

describe('invalid options throw FST_OPSKIT_RATE_LIMIT_INVALID_OPTION naming the option', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['max', { max: -1 }],
    ['max', { max: 1.5 }],
    ['max', { max: '100' }],
    ['timeWindow', { timeWindow: 0 }],
    ['timeWindow', { timeWindow: 'soon' }],
    ['tiers', { tiers: [1, 2] }],
    ['tiers.admin', { tiers: { admin: -5 } }],
    ['redis', { redis: 'http://localhost:6379' }],
    ['redis', { redis: { host: 'localhost' } }],
    ['failOpen', { failOpen: 'yes' }],
    ['allowList', { allowList: '10.0.0.1' }],
    ['redisTimeoutMs', { redisTimeoutMs: 0 }],
    ['cache', { cache: 0 }],
    ['exemptPaths', { exemptPaths: ['health'] }],
    ['ipv6Subnet', { ipv6Subnet: 129 }],
    ['enabled', { enabled: 'false' }],
    ['maxx', { maxx: 3 }],
    ['headers', { headers: 'ietf' }],
    ['algorithm', { algorithm: 'gcra' }],
    ['shadow', { shadow: 'yes' }],
    ['tiers.café', { tiers: { 'café': 3 }, headers: 'draft' }],
  ]
  for (const [name, options] of cases) {
    it(`${name}: ${JSON.stringify(options)}`, async () => {
      expectOptionError(await register(options), 'FST_OPSKIT_RATE_LIMIT_INVALID_OPTION', name)
    })
  }

  it('accepts any tier name with the x-ratelimit headers only (no Structured Field to fit)', async () => {
    expect(await register({ tiers: { 'café': 3 } })).toBeUndefined()
  })

  it('still validates when enabled is false', async () => {
    expectOptionError(await register({ enabled: false, max: -1 }), 'FST_OPSKIT_RATE_LIMIT_INVALID_OPTION', 'max')
  })

  it('the deprecated FST_RATE_LIMIT_INVALID_OPTION export still catches the renamed error', async () => {
    expect(await register({ max: -1 })).toBeInstanceOf(FST_RATE_LIMIT_INVALID_OPTION)
  })

  it('needs @opskit/core registered first', async () => {
    const app = Fastify()
    await expect(app.register(opskitRateLimit).ready()).rejects.toThrow(/@opskit\/core/)
    await app.close()
  })
})

describe('parseDuration', () => {
  it('reads ms numbers and duration strings', () => {
    expect(parseDuration(1500)).toBe(1500)
    expect(parseDuration('1 minute')).toBe(60_000)
    expect(parseDuration('30s')).toBe(30_000)
    expect(parseDuration('2 hours')).toBe(7_200_000)
    expect(parseDuration('250')).toBe(250)
    expect(parseDuration('1 fortnight')).toBeUndefined()
    expect(parseDuration(-1)).toBeUndefined()
  })
})

describe('rateLimitOptionsFromEnv', () => {
  it('reads RATE_LIMIT_ENABLED, RATE_LIMIT_REQUESTS and RATE_LIMIT_PERIOD (seconds)', () => {
    expect(rateLimitOptionsFromEnv({ RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_REQUESTS: '250', RATE_LIMIT_PERIOD: '30' })).toEqual({
      enabled: false,
      max: 250,
      timeWindow: 30_000,
    })
    expect(rateLimitOptionsFromEnv({ RATE_LIMIT_ENABLED: '1' })).toEqual({ enabled: true })
  })

  it('leaves unset variables out so the defaults apply', () => {
    expect(rateLimitOptionsFromEnv({})).toEqual({})
    expect(rateLimitOptionsFromEnv({ RATE_LIMIT_REQUESTS: '' })).toEqual({})
    // the suite's loadConfig() rejects 0 too: both read the same variables the same way
    expect(() => rateLimitOptionsFromEnv({ RATE_LIMIT_REQUESTS: '0' })).toThrow(/RATE_LIMIT_REQUESTS \(expected an integer > 0\)/)
    expect(() => rateLimitOptionsFromEnv({ RATE_LIMIT_PERIOD: '99999999999999999999' })).toThrow(/RATE_LIMIT_PERIOD/)
  })

  it('throws one error naming every bad variable', () => {
    expect(() => rateLimitOptionsFromEnv({ RATE_LIMIT_ENABLED: 'maybe', RATE_LIMIT_REQUESTS: '-3', RATE_LIMIT_PERIOD: '0' })).toThrow(
      /RATE_LIMIT_ENABLED.*RATE_LIMIT_REQUESTS.*RATE_LIMIT_PERIOD/,
    )
  })

  it('its result configures the plugin', async () => {
    const app = Fastify()
    await app.register(opskitCore)
    await app.register(opskitRateLimit, rateLimitOptionsFromEnv({ RATE_LIMIT_REQUESTS: '1', RATE_LIMIT_PERIOD: '10' }))
    app.get('/', async () => 'ok')
    try {
      expect((await app.inject('/')).headers['x-ratelimit-limit']).toBe('1')
      const limited = await app.inject('/')
      expect(limited.statusCode).toBe(429)
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(10)
    } finally {
      await app.close()
    }
  })
})
