import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { createOptionError, isHeaderName, isPlainObject, isPositiveInt, isRedisLike, opskitCore, refuseUnknownKeys } from '@opskit/core'

const FST_TEST_INVALID_OPTION = createOptionError('FST_TEST_INVALID_OPTION', '@opskit/test')

describe('option checks', () => {
  it('tells plain objects, positive integers, header names and Redis clients apart', () => {
    expect([{}, Object.create(null), [], null, new Date(), 'x'].map(isPlainObject)).toEqual([true, true, false, false, false, false])
    expect([1, 200, 0, -1, 1.5, '3'].map(isPositiveInt)).toEqual([true, true, false, false, false, false])
    expect(['x-request-id', 'X-Trace', 'bad header', '', 'a:b'].map(isHeaderName)).toEqual([true, true, false, false, false])
    expect(isRedisLike({ status: 'ready', defineCommand() {} })).toBe(true)
    expect(isRedisLike({ status: 'ready' })).toBe(false)
  })

  it('refuses an unknown key with an error naming it (and its path), allowing Fastify register options at the top level', () => {
    const known = new Set(['max'])
    expect(() => refuseUnknownKeys({ max: 1, prefix: '/x', logLevel: 'warn' }, known, FST_TEST_INVALID_OPTION)).not.toThrow()
    expect(() => refuseUnknownKeys({ max: 1, maxx: 2 }, known, FST_TEST_INVALID_OPTION)).toThrow(/invalid option "maxx": unknown option; expected one of max/)
    expect(() => refuseUnknownKeys({ prefix: '/x' }, known, FST_TEST_INVALID_OPTION, 'file.')).toThrow(/"file\.prefix"/)
    expect(() => refuseUnknownKeys({ prefix: '/x' }, known, FST_TEST_INVALID_OPTION, '', false)).toThrow(/"prefix": unknown option/)
  })

  it('core refuses an unknown option at register() with FST_OPSKIT_CORE_INVALID_OPTION', async () => {
    const app = Fastify()
    await expect(app.register(opskitCore, { requestIdHeaders: 'x-id' } as never).ready()).rejects.toMatchObject({
      code: 'FST_OPSKIT_CORE_INVALID_OPTION',
      message: expect.stringContaining('"requestIdHeaders"'),
    })
    await app.close()
  })
})
