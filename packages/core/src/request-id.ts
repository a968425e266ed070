import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** True when an incoming request id is safe to reuse: 1–128 characters of `A-Za-z0-9._:-`. */
export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && VALID_REQUEST_ID.test(value)
}

export interface RequestIdGeneratorOptions {
  /** Incoming header to reuse when it is valid. Default `'x-request-id'`. */
  header?: string
}

/**
 * A Fastify `genReqId`: reuses the incoming request id header only when it matches
 * `^[A-Za-z0-9._:-]{1,128}$`; anything else (too long, CRLF, spaces, empty) gets a fresh UUID.
 */
export function requestIdGenerator({ header = 'x-request-id' }: RequestIdGeneratorOptions = {}): (req: IncomingMessage) => string {
  const name = header.toLowerCase()
  return function genReqId(req: IncomingMessage): string {
    const incoming = req.headers[name]
    return isValidRequestId(incoming) ? incoming : randomUUID()
  }
}
