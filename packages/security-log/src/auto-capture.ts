import { contextOf, markRecorded, wasRecorded, type RequestContext } from '@opskit/core'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import type { AutoCaptureOptions } from './options.js'

/** Core's "already recorded" key for a security action (`markRecorded` / `wasRecorded`). */
const recordedKey = (action: string): string => `security-log:${action}`

/**
 * Notes that `action` was recorded inside this request (or job) context, by `request.securityEvent()`
 * or `fastify.securityLog.record()`, so auto capture does not record it again for the response.
 */
export function rememberAction(context: RequestContext, action: string): void {
  markRecorded(context, recordedKey(action))
}

/** True when this request recorded `action` itself (see `rememberAction`). */
function actionRecorded(request: FastifyRequest, action: string): boolean {
  return wasRecorded(contextOf(request), recordedKey(action))
}

/**
 * An `onResponse` hook: 401 → `token_invalid`, 403 → `authz_denied`, 429 → `rate_limit_hit`, 400 →
 * `input_validation_fail` (each when on), skipped when the request already recorded that action
 * (rate-limit records its own `rate_limit_hit`) or the route says `config: { securityLog: false }`.
 */
export function createAutoCapture(
  capture: Required<AutoCaptureOptions>,
  record: (request: FastifyRequest, action: string, statusCode: number, route: string | null) => void,
): (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
  const on401 = capture.unauthorized ? 'token_invalid' : undefined
  const on403 = capture.forbidden ? 'authz_denied' : undefined
  const on429 = capture.rateLimited ? 'rate_limit_hit' : undefined
  const on400 = capture.validation ? 'input_validation_fail' : undefined
  return function securityAutoCapture(request, reply, done) {
    const status = reply.statusCode
    let action: string | undefined
    switch (status) {
      case 401: action = on401; break
      case 403: action = on403; break
      case 429: action = on429; break
      case 400: action = on400; break
      default: done(); return
    }
    if (action !== undefined && !actionRecorded(request, action)) {
      // `request.routeOptions` builds a new object on every access: read it once.
      const route = request.routeOptions as Pick<RouteOptions, 'url' | 'config'>
      if (route.config?.securityLog !== false) record(request, action, status, route.url ?? null)
    }
    done()
  }
}
