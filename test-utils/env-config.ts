import { expect } from 'vitest'
import { loadConfig, OpskitConfigError } from '@opskit/suite'

/** The `OpskitConfigError` that `loadConfig(env)` throws; fails the test when it does not throw one. */
export function configError(env: Record<string, string>): OpskitConfigError {
  try {
    loadConfig(env)
  } catch (err) {
    expect(err).toBeInstanceOf(OpskitConfigError)
    return err as OpskitConfigError
  }
  throw new Error('loadConfig did not throw')
}
