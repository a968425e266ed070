import { ERROR_RESPONSE_SCHEMA } from '@opskit/core'

/**
 * Response schemas of the health routes: they document the bodies (for `@fastify/swagger` and
 * readers) and let Fastify serialize them with fast-json-stringify. Every object allows extra
 * fields: a check may add its own (`used_percent`), and nothing a check reports is dropped.
 */

const service = {
  type: 'object',
  required: ['status', 'latency_ms'],
  properties: {
    status: { type: 'string', enum: ['ok', 'error'] },
    latency_ms: { type: 'number' },
    error: { type: 'string' },
  },
  additionalProperties: true,
} as const

const services = { type: 'object', additionalProperties: service } as const


/** `GET /health` and `GET /health/live`. */
export const liveSchema = {
  response: {
    200: {
      type: 'object',
      required: ['status', 'uptime_s'],
      properties: { status: { type: 'string', enum: ['ok'] }, version: { type: 'string' }, uptime_s: { type: 'integer' } },
    },
  },
} as const

/** `GET /health/ready`: the report; 503 with a critical check failed, or `{ status: 'shutting_down' }`. */
export const readySchema = {
  response: {
    200: { type: 'object', required: ['status', 'services'], properties: { status: { type: 'string', enum: ['ok', 'degraded'] }, services } },
    503: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['error', 'shutting_down'] }, services } },
  },
} as const

/** `GET /health/<name>`: one service entry, 503 when it failed, 404 for an unknown name. */
export const oneSchema = {
  params: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  response: { 200: service, 503: service, 404: ERROR_RESPONSE_SCHEMA },
} as const
