/**
 * The JSON Schema of an error body opskit answers with (`{ statusCode, error, message }`, plus
 * `request_id` core adds and any field Fastify's error handler adds): for `schema.response`.
 */
export const ERROR_RESPONSE_SCHEMA = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' }, request_id: { type: 'string' } },
  additionalProperties: true,
} as const
