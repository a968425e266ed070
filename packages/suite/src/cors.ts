import type { FastifyCorsOptions, OriginFunction } from '@fastify/cors'
import { FST_OPSKIT_CORS_ORIGIN_FAILED } from './errors.js'

/**
 * `@fastify/cors` options that leave requests without an `Origin` header alone. Browsers send
 * `Origin` on every cross-origin request (and every preflight), so a request without one needs
 * no CORS headers: the `origin` option becomes a function that answers `false` (CORS off for this
 * request) when the header is absent, and otherwise the configured origins (or the user's own
 * origin function). Because the origin option is a function, `@fastify/cors` adds `Vary: Origin`
 * to every response, so a shared cache never serves an API response to a cross-origin request.
 * `@fastify/cors` itself is registered as an ordinary plugin with these options.
 *
 * Options given as a function or with a `delegator` are passed through unchanged: they already
 * decide per request.
 */
export function originOnlyCorsOptions(opts: FastifyCorsOptions): FastifyCorsOptions {
  if (typeof opts === 'function' || opts.delegator !== undefined) return opts
  const configured = opts.origin ?? '*'
  const origin: OriginFunction = function originWhenPresent(this: unknown, requestOrigin, callback) {
    if (requestOrigin === undefined) {
      callback(null, false)
      return
    }
    if (typeof configured !== 'function') {
      callback(null, configured)
      return
    }
    const result = (configured as (this: unknown, origin: string, cb: typeof callback) => unknown).call(this, requestOrigin, callback)
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
      ;(result as Promise<Parameters<typeof callback>[1]>).then(
        (value) => {
          callback(null, value)
        },
        (error: unknown) => {
          callback(error instanceof Error ? error : new FST_OPSKIT_CORS_ORIGIN_FAILED(String(error)), false)
        },
      )
    }
  }
  return { ...opts, origin }
}
