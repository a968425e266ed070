import { FST_OPSKIT_CORE_INVALID_OPTION } from './errors.js'
import { isHeaderName, isPlainObject, refuseUnknownKeys } from './option-checks.js'
import type { OpskitCoreOptions, ResolveActor } from './types.js'

export interface ResolvedCoreOptions {
  requestIdHeader: string
  resolveActor: ResolveActor | undefined
}

const KNOWN_OPTIONS = new Set(['requestIdHeader', 'resolveActor'])

/** Validates and fills in defaults; throws `FST_OPSKIT_CORE_INVALID_OPTION` naming the option. */
export function resolveOptions(opts: OpskitCoreOptions): ResolvedCoreOptions {
  if (!isPlainObject(opts as unknown)) throw new FST_OPSKIT_CORE_INVALID_OPTION('options', 'expected an object')
  refuseUnknownKeys(opts, KNOWN_OPTIONS, FST_OPSKIT_CORE_INVALID_OPTION)
  const { requestIdHeader = 'x-request-id', resolveActor } = opts
  if (!isHeaderName(requestIdHeader)) {
    throw new FST_OPSKIT_CORE_INVALID_OPTION('requestIdHeader', 'expected a header name such as "x-request-id"')
  }
  if (resolveActor !== undefined && typeof resolveActor !== 'function') {
    throw new FST_OPSKIT_CORE_INVALID_OPTION('resolveActor', 'expected a function (request) => Actor | null')
  }
  return { requestIdHeader: requestIdHeader.toLowerCase(), resolveActor }
}
