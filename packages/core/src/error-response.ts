import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * `onSend` hook: adds `"request_id"` to error bodies that Fastify produced (validation 400, 404,
 * thrown errors), keeping Fastify's shape. Bodies of any other shape are left alone.
 */
export function addRequestIdToErrors(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (err: null, payload?: unknown) => void,
): void {
  if (reply.statusCode < 400 || typeof payload !== 'string' || payload.charCodeAt(0) !== 123 /* { */) {
    done(null, payload)
    return
  }
  if (!payload.includes('"statusCode"') || payload.includes('"request_id"')) {
    done(null, payload)
    return
  }
  try {
    const body = JSON.parse(payload) as Record<string, unknown>
    if (typeof body.statusCode === 'number' && 'message' in body) {
      body.request_id = request.id
      reply.removeHeader('content-length')
      done(null, JSON.stringify(body))
      return
    }
  } catch {
    // not JSON after all: leave it alone
  }
  done(null, payload)
}
