import createError from '@fastify/error'

export type OptionErrorConstructor = new (option: string, problem: string) => Error & { code: string }

/**
 * An error class for invalid plugin options, thrown at `register()`. Each package makes its own so
 * the code is stable and says where it came from, e.g. `FST_AUDIT_INVALID_OPTION`.
 */
export function createOptionError(code: string, pkg: string): OptionErrorConstructor {
  return createError(code, `${pkg}: invalid option "%s": %s`, 500, TypeError) as unknown as OptionErrorConstructor
}

export const FST_OPSKIT_CORE_INVALID_OPTION = createOptionError('FST_OPSKIT_CORE_INVALID_OPTION', '@opskit/core')
