import Fastify from 'fastify'
import { opskitCore } from '@opskit/core'
import { expect } from 'vitest'

export interface RegisterErrorOptions {
  /** Register `@opskit/core` first, as every opskit plugin needs. Default `true`. */
  core?: boolean
}

/**
 * Registers `plugin` with `options` on a fresh Fastify instance (after `@opskit/core` unless
 * `core: false`), waits for `ready()`, closes the instance, and resolves with what registering
 * threw, or `undefined` when it did not throw. For tests of invalid options.
 */
export async function registerError(plugin: unknown, options: unknown, { core = true }: RegisterErrorOptions = {}): Promise<unknown> {
  const app = Fastify()
  try {
    if (core) await app.register(opskitCore)
    await app.register(plugin as never, options as never)
    await app.ready()
    return undefined
  } catch (err) {
    return err
  } finally {
    await app.close()
  }
}

/** Expects `error` to be an option error with `code` whose message names `option` (`invalid option "<option>"`). */
export function expectOptionError(error: unknown, code: string, option: string): void {
  expect(error, option).toMatchObject({ code, message: expect.stringContaining(`invalid option "${option}"`) })
}
