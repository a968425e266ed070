import createError from '@fastify/error'

export type OptionErrorConstructor = new (option: string, problem: string) => Error & { code: string }

/**
 * An error class for invalid plugin options, thrown at `register()`. Each package makes its own so
 * the code is stable and says where it came from, e.g. `FST_OPSKIT_AUDIT_INVALID_OPTION`.
 */
export function createOptionError(code: string, pkg: string): OptionErrorConstructor {
  return createError<[option: string, problem: string]>(code, `${pkg}: invalid option "%s": %s`, 500, TypeError)
}

export const FST_OPSKIT_CORE_INVALID_OPTION = createOptionError('FST_OPSKIT_CORE_INVALID_OPTION', '@opskit/core')

/** `runJob()` with a bad name, id, `fn` or options (the promise rejects; `fn` is not called). */
export const FST_OPSKIT_CORE_INVALID_JOB = createError<[problem: string]>('FST_OPSKIT_CORE_INVALID_JOB', '@opskit/core: runJob(): %s', 500, TypeError)

/** `fastify.opskitJobs.add()` with something that is not an observer object. */
export const FST_OPSKIT_CORE_INVALID_JOB_OBSERVER = createError('FST_OPSKIT_CORE_INVALID_JOB_OBSERVER', '@opskit/core: opskitJobs.add() expects an observer object', 500, TypeError)

/** `requireRequestContext()` called outside a request (or job). */
export const FST_OPSKIT_CORE_NO_REQUEST_CONTEXT = createError('FST_OPSKIT_CORE_NO_REQUEST_CONTEXT', '@opskit/core: requireRequestContext() called outside a request', 500)

/** `labelCap(max)` with a `max` that is not a positive integer. */
export const FST_OPSKIT_CORE_INVALID_LABEL_CAP = createError<[max: string]>('FST_OPSKIT_CORE_INVALID_LABEL_CAP', '@opskit/core: labelCap() needs a positive integer, got %s', 500, TypeError)

/** `addOpskitHook()` with a phase other than `onRequest`/`onResponse`, or a hook that is not a function. */
export const FST_OPSKIT_CORE_INVALID_HOOK = createError<[problem: string]>('FST_OPSKIT_CORE_INVALID_HOOK', '@opskit/core: addOpskitHook(): %s', 500, TypeError)
