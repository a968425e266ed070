import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify'
import type { AutoCaptureOptions } from './options.js'

/** Request property holding the actions recorded during the request (a string, then an array). */
export const kRecordedActions = Symbol('opskit.securityLog.recordedActions')

interface RecordingRequest {
  [kRecordedActions]: string | string[] | null
}

/** Remembers that `action` was recorded during `request`, so auto capture does not record it again. */
export function rememberAction(request: FastifyRequest, action: string): void {
  const r = request as unknown as RecordingRequest
  const seen = r[kRecordedActions]
  if (seen === null) r[kRecordedActions] = action
  else if (typeof seen === 'string') { if (seen !== action) r[kRecordedActions] = [seen, action] }
  else if (!seen.includes(action)) seen.push(action)
}

export function wasRecorded(request: FastifyRequest, action: string): boolean {
  const seen = (request as unknown as RecordingRequest)[kRecordedActions]
  return seen === action || (Array.isArray(seen) && seen.includes(action))
}

/**
 * An `onResponse` hook: 401 → `token_invalid`, 403 → `authz_denied`, 429 → `rate_limit_hit`, 400 →
 * `input_validation_fail` (each when on), skipped when the request already recorded that action
 * (rate-limit records its own `rate_limit_hit`) or the route says `config: { securityLog: false }`.
 */
export function createAutoCapture(
  capture: Required<AutoCaptureOptions>,
  record: (request: FastifyRequest, action: string, statusCode: number, route: string | null) => void,
  isRecorded: (request: FastifyRequest, action: string) => boolean = wasRecorded,
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
    if (action !== undefined && !isRecorded(request, action)) {
      // `request.routeOptions` builds a new object on every access: read it once.
      const route = request.routeOptions as Pick<RouteOptions, 'url' | 'config'>
      if (route.config?.securityLog !== false) record(request, action, status, route.url ?? null)
    }
    done()
  }
}
