import { createOptionError } from '@opskit/core'
import { compileHostList, type HostMatcher } from './host-match.js'

export const FST_OPSKIT_OUTBOUND_INVALID_OPTION = createOptionError('FST_OPSKIT_OUTBOUND_INVALID_OPTION', '@opskit/outbound')

export interface BodyPreviewOptions {
  /** The most bytes of a request body put on the line. Default `1024`. */
  maxBytes?: number
}

export interface OpskitOutboundOptions {
  /** Service name → host (`hostname` or `hostname:port`) or host pattern (tested on the hostname).
   * A call to any other host is named by its host. Default none. */
  services?: Record<string, string | RegExp>
  /** Hosts that receive the current request's `x-request-id` and `traceparent`. Default none, so
   * ids never leak to third parties. */
  propagate?: (string | RegExp)[]
  /** Hosts whose calls are neither logged nor counted (a `hostname`, or `hostname:port` for one port). Default none. */
  ignore?: (string | RegExp)[]
  /** Puts the start of each request body on the line. Off by default; refused with `ENVIRONMENT=production`. */
  bodyPreview?: BodyPreviewOptions | boolean
  /** WARN lines name the code that made the call (`source`), from a stack captured at each call's
   * start: a few µs per call, so off by default (then `source` is null). Default `false`. */
  callSite?: boolean
}

export interface ResolvedOutboundOptions {
  services: { name: string; match: HostMatcher }[]
  propagate: HostMatcher | null
  ignore: HostMatcher | null
  bodyPreview: { maxBytes: number } | null
  callSite: boolean
}

const DEFAULTS = { services: {}, propagate: [], ignore: [], bodyPreview: false, callSite: false } as const
const KNOWN_KEYS = new Set(Object.keys(DEFAULTS))

function hostList(option: string, value: unknown): HostMatcher | null {
  if (!Array.isArray(value)) throw new FST_OPSKIT_OUTBOUND_INVALID_OPTION(option, 'expected an array of host names or RegExps')
  for (const entry of value) {
    if (!(entry instanceof RegExp) && (typeof entry !== 'string' || entry.length === 0)) {
      throw new FST_OPSKIT_OUTBOUND_INVALID_OPTION(option, 'expected an array of host names or RegExps')
    }
  }
  return value.length === 0 ? null : compileHostList(value as (string | RegExp)[])
}

/** Validates the options at `register()`; `env` is read then (`ENVIRONMENT=production` refuses `bodyPreview`). */
export function resolveOptions(opts: OpskitOutboundOptions, env: NodeJS.ProcessEnv = process.env): ResolvedOutboundOptions {
  if (opts === null || typeof opts !== 'object') throw new FST_OPSKIT_OUTBOUND_INVALID_OPTION('options', 'expected an object')
  for (const key of Object.keys(opts)) {
    if (!KNOWN_KEYS.has(key)) throw new FST_OPSKIT_OUTBOUND_INVALID_OPTION(key, `unknown option (known: ${[...KNOWN_KEYS].join(', ')})`)
  }
  const { services = DEFAULTS.services as Record<string, string | RegExp>, propagate = DEFAULTS.propagate, ignore = DEFAULTS.ignore, bodyPreview = DEFAULTS.bodyPreview, callSite = DEFAULTS.callSite } = opts

  if (services === null || typeof services !== 'object' || Array.isArray(services)) {
    throw new FST_OPSKIT_OUTBOUND_INVALID_OPTION('services', 'expected an object of service name → host or RegExp')
  }
  const serviceList: ResolvedOutboundOptions['services'] = []
  for (const name of Object.keys(services)) {
    const host = services[name]
    if (name.length === 0 || !(host instanceof RegExp || (typeof host === 'string' && host.length > 0))) {
      throw new FST_OPSKIT_OUTBOUND_INVALID_OPTION('services', `"${name.slice(0, 64)}": expected a host name or a RegExp`)
    }
    serviceList.push({ name, match: compileHostList([host]) })
  }

  let preview: ResolvedOutboundOptions['bodyPreview'] = null
  if (bodyPreview !== false && bodyPreview !== undefined) {
    if (bodyPreview !== true && (bodyPreview === null || typeof bodyPreview !== 'object')) {
      throw new FST_OPSKIT_OUTBOUND_INVALID_OPTION('bodyPreview', 'expected { maxBytes?: number }, true or false')
    }
    const { maxBytes = 1024, ...rest } = bodyPreview === true ? {} : bodyPreview
    const unknown = Object.keys(rest)[0]
    if (unknown !== undefined) throw new FST_OPSKIT_OUTBOUND_INVALID_OPTION(`bodyPreview.${unknown}`, 'unknown option (known: maxBytes)')
    if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new FST_OPSKIT_OUTBOUND_INVALID_OPTION('bodyPreview.maxBytes', 'expected a positive integer')
    if (env.ENVIRONMENT === 'production') {
      throw new FST_OPSKIT_OUTBOUND_INVALID_OPTION('bodyPreview', 'bodies of outbound calls are not logged with ENVIRONMENT=production')
    }
    preview = { maxBytes }
  }

  if (typeof callSite !== 'boolean') throw new FST_OPSKIT_OUTBOUND_INVALID_OPTION('callSite', 'expected a boolean')

  return { services: serviceList, propagate: hostList('propagate', propagate), ignore: hostList('ignore', ignore), bodyPreview: preview, callSite }
}
