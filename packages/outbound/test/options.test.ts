import { afterEach, describe, expect, it } from 'vitest'
import { registerError } from '../../../test-utils/server-register.js'
import { opskitOutbound, FST_OPSKIT_OUTBOUND_INVALID_OPTION } from '@opskit/outbound'

const saved = process.env.ENVIRONMENT
afterEach(() => {
  if (saved === undefined) delete process.env.ENVIRONMENT
  else process.env.ENVIRONMENT = saved
})

const register = (options: unknown): Promise<unknown> => registerError(opskitOutbound, options)

describe('options', () => {
  it('an unknown key fails register() naming it', async () => {
    const err = await register({ propagte: ['api.internal'] })
    expect(err).toBeInstanceOf(FST_OPSKIT_OUTBOUND_INVALID_OPTION)
    expect((err as Error & { code: string }).code).toBe('FST_OPSKIT_OUTBOUND_INVALID_OPTION')
    expect((err as Error).message).toContain('"propagte"')
  })

  it.each([
    [{ services: { api: 42 } }, 'services'],
    [{ propagate: 'api.internal' }, 'propagate'],
    [{ ignore: [''] }, 'ignore'],
    [{ bodyPreview: { maxBytes: 0 } }, 'bodyPreview.maxBytes'],
    [{ bodyPreview: { max: 10 } }, 'bodyPreview.max'],
    [{ callSite: 'yes' }, 'callSite'],
  ])('%j fails naming %s', async (options, name) => {
    expect(((await register(options)) as Error).message).toContain(`"${name}"`)
  })

  it('bodyPreview is refused with ENVIRONMENT=production (read at register), accepted elsewhere', async () => {
    process.env.ENVIRONMENT = 'production'
    const err = await register({ bodyPreview: { maxBytes: 256 } })
    expect((err as Error).message).toContain('"bodyPreview"')
    expect(await register({})).toBeUndefined()
    process.env.ENVIRONMENT = 'development'
    expect(await register({ bodyPreview: true })).toBeUndefined()
  })
})
