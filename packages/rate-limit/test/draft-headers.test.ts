import Fastify, { type FastifyInstance } from 'fastify'
import { opskitCore, type Actor } from '@opskit/core'
import { parseList } from 'structured-headers'
import { afterEach, describe, expect, it } from 'vitest'
import { opskitRateLimit, type OpskitRateLimitOptions } from '@opskit/rate-limit'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

const ACTORS: Record<string, Actor> = {
  admin: { id: 'a1', role: 'admin' },
  member: { id: 'm1', role: 'member' },
  norole: { id: 'n1' },
}

async function build(options: OpskitRateLimitOptions) {
  const instance = Fastify()
  await instance.register(opskitCore, { resolveActor: (request) => ACTORS[String(request.headers.authorization ?? '')] ?? null })
  await instance.register(opskitRateLimit, options)
  instance.get('/items', async () => ({ ok: true }))
  instance.post('/login', { config: { rateLimit: { max: 5, timeWindow: '15 minutes' } } }, async () => ({ ok: true }))
  instance.post('/signup', { config: { rateLimit: { name: 'sign"up\\', max: 9 } } }, async () => ({ ok: true }))
  instance.get('/search', {
    config: { rateLimit: [{ name: 'burst', max: 2, timeWindow: '10 seconds' }, { name: 'daily', max: 4, timeWindow: '1 day' }] },
  }, async () => ({ results: [] }))
  app = instance
  return instance
}

/** A field parsed by an RFC 9651 parser (structured-headers): [name, { param: value }] per member. */
function sf(value: string | string[] | number | undefined): Array<[unknown, Record<string, unknown>]> {
  expect(typeof value).toBe('string')
  return parseList(value as string).map(([item, params]) => [item, Object.fromEntries(params)])
}

function hit(instance: FastifyInstance, url = '/items', opts: { token?: string; method?: 'GET' | 'POST'; ip?: string } = {}) {
  return instance.inject({ method: opts.method ?? 'GET', url, remoteAddress: opts.ip ?? '10.0.0.1', headers: opts.token ? { authorization: opts.token } : {} })
}

describe("headers: 'draft' (RateLimit-Policy and RateLimit as Structured Fields)", () => {
  it('names the policy after the tier that applies: the role, anonymous, or default for max', async () => {
    const instance = await build({ headers: 'draft', max: 3, timeWindow: '1 minute', tiers: { admin: 50, anonymous: 2 } })
    const anonymous = await hit(instance)
    expect(sf(anonymous.headers['ratelimit-policy'])).toEqual([['anonymous', { q: 2, w: 60 }]])
    expect(sf(anonymous.headers.ratelimit)).toEqual([['anonymous', { r: 1, t: 60 }]])
    // 'draft' alone: none of the x-ratelimit-* fields
    expect(anonymous.headers['x-ratelimit-limit']).toBeUndefined()
    expect(anonymous.headers['x-ratelimit-remaining']).toBeUndefined()

    const admin = await hit(instance, '/items', { token: 'admin' })
    expect(sf(admin.headers['ratelimit-policy'])).toEqual([['admin', { q: 50, w: 60 }]])
    expect(sf(admin.headers.ratelimit)).toEqual([['admin', { r: 49, t: 60 }]])

    // an actor whose role has no tier gets max, under the name "default"
    for (const token of ['member', 'norole']) {
      const res = await hit(instance, '/items', { token })
      expect(sf(res.headers['ratelimit-policy']), token).toEqual([['default', { q: 3, w: 60 }]])
      expect(sf(res.headers.ratelimit), token).toEqual([['default', { r: 2, t: 60 }]])
    }
  })

  it('is "default" without tiers, and a route override is its own policy (its path, or its name)', async () => {
    const instance = await build({ headers: 'draft', max: 10 })
    expect(sf((await hit(instance)).headers['ratelimit-policy'])).toEqual([['default', { q: 10, w: 60 }]])
    const login = await hit(instance, '/login', { method: 'POST' })
    expect(sf(login.headers['ratelimit-policy'])).toEqual([['/login', { q: 5, w: 900 }]])
    expect(sf(login.headers.ratelimit)).toEqual([['/login', { r: 4, t: 900 }]])
    // a quote and a backslash in a name are escaped, and come back intact through a real parser
    const signup = await hit(instance, '/signup', { method: 'POST' })
    expect(signup.headers['ratelimit-policy']).toBe('"sign\\"up\\\\";q=9;w=60')
    expect(sf(signup.headers['ratelimit-policy'])).toEqual([['sign"up\\', { q: 9, w: 60 }]])
  })

  it('a 429 has r=0, t equal to retry-after, and retry-after', async () => {
    const instance = await build({ headers: 'draft', max: 1, timeWindow: '30 seconds' })
    await hit(instance)
    const res = await hit(instance)
    expect(res.statusCode).toBe(429)
    const [[name, params]] = sf(res.headers.ratelimit) as [[unknown, Record<string, number>]]
    expect(name).toBe('default')
    expect(params.r).toBe(0)
    expect(params.t).toBe(Number(res.headers['retry-after']))
    expect(params.t).toBeGreaterThanOrEqual(1)
    expect(params.t).toBeLessThanOrEqual(30)
  })

  it("'both' sends the draft fields and x-ratelimit-*, with the same numbers", async () => {
    const instance = await build({ headers: 'both', max: 7 })
    const res = await hit(instance)
    expect(sf(res.headers['ratelimit-policy'])).toEqual([['default', { q: 7, w: 60 }]])
    const [[, params]] = sf(res.headers.ratelimit) as [[unknown, Record<string, number>]]
    expect(res.headers['x-ratelimit-limit']).toBe('7')
    expect(res.headers['x-ratelimit-remaining']).toBe(String(params.r))
    expect(res.headers['x-ratelimit-reset']).toBe(String(params.t))
  })

  it("the default ('x-ratelimit') sends no draft field", async () => {
    const instance = await build({ max: 7 })
    const res = await hit(instance)
    expect(res.headers['x-ratelimit-limit']).toBe('7')
    expect(res.headers['ratelimit-policy']).toBeUndefined()
    expect(res.headers.ratelimit).toBeUndefined()
  })
})

describe('several policies on one route', () => {
  it('applies each (429 when any is exhausted), lists all in the draft fields, x-ratelimit-* describe the closest to exhaustion', async () => {
    const instance = await build({ headers: 'both', max: 100 })
    const first = await hit(instance, '/search')
    expect(sf(first.headers['ratelimit-policy'])).toEqual([['burst', { q: 2, w: 10 }], ['daily', { q: 4, w: 86400 }]])
    expect(sf(first.headers.ratelimit)).toEqual([['burst', { r: 1, t: 10 }], ['daily', { r: 3, t: 86400 }]])
    expect(first.headers['x-ratelimit-limit']).toBe('2') // burst: 1 left of 2, daily 3 of 4
    expect(first.headers['x-ratelimit-remaining']).toBe('1')

    expect((await hit(instance, '/search')).statusCode).toBe(200)
    const third = await hit(instance, '/search')
    expect(third.statusCode).toBe(429) // burst exhausted, daily not
    expect(sf(third.headers.ratelimit)).toEqual([['burst', { r: 0, t: 10 }], ['daily', { r: 2, t: 86400 }]])
    expect(third.headers['x-ratelimit-limit']).toBe('2')
    expect(third.headers['x-ratelimit-remaining']).toBe('0')
    expect(third.headers['retry-after']).toBe('10')
    // the burst 429s did not spend the daily quota (still 2 left), and another client is untouched
    const other = await hit(instance, '/search', { ip: '10.0.0.2' })
    expect(sf(other.headers.ratelimit)).toEqual([['burst', { r: 1, t: 10 }], ['daily', { r: 3, t: 86400 }]])
    // the route's policies are its own: the plugin's budget of the same client is unspent
    expect((await hit(instance)).headers['x-ratelimit-remaining']).toBe('99')
  })

  it('x-ratelimit-* switch to the daily policy once it has fewer requests left, and it rejects alone', async () => {
    const instance = await build({ headers: 'x-ratelimit', max: 100 })
    instance.get('/quota', {
      config: { rateLimit: [{ name: 'burst', max: 3, timeWindow: 60_000 }, { name: 'daily', max: 2, timeWindow: '1 day' }] },
    }, async () => 'ok')
    const first = await hit(instance, '/quota')
    expect(first.headers['x-ratelimit-limit']).toBe('2')
    expect(first.headers['x-ratelimit-remaining']).toBe('1')
    expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThan(86_000)
    await hit(instance, '/quota')
    const third = await hit(instance, '/quota')
    expect(third.statusCode).toBe(429)
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(86_000)
  })

  it('refuses a list without names, with duplicate names, or empty, naming the entry', async () => {
    const instance = await build({})
    expect(() => instance.get('/a', { config: { rateLimit: [{ max: 1 } as never] } }, async () => 'x')).toThrow(/config\.rateLimit\[0\]\.name/)
    expect(() => instance.get('/b', { config: { rateLimit: [{ name: 'x', max: 1 }, { name: 'x', max: 2 }] } }, async () => 'x')).toThrow(/config\.rateLimit\[1\]\.name/)
    expect(() => instance.get('/c', { config: { rateLimit: [] } }, async () => 'x')).toThrow(/config\.rateLimit/)
    expect(() => instance.get('/d', { config: { rateLimit: [{ name: 'x', max: -1 }] } }, async () => 'x')).toThrow(/config\.rateLimit\[0\]\.max/)
    expect(() => instance.get('/e', { config: { rateLimit: [{ name: 'caf\u00e9' }] } }, async () => 'x')).toThrow(/config\.rateLimit\[0\]\.name/)
  })
})
