import type { FastifySchemaValidationError } from 'fastify'
import { InvalidQueryError } from './errors.js'
import { DEFAULT_LIMIT, ISO_DATE_PATTERN, MAX_LIMIT, MAX_SKIP, MAX_TEXT_LENGTH, type FilterKind, type ListSpec } from './list-query.js'

/** The JSON Schema of one filter kind (`ip` is left to `isIP()`, which knows every IPv6 spelling). */
const FILTER_SCHEMAS: Record<FilterKind, object> = {
  // PostgreSQL refuses a NUL in text (the query would fail with a 500): no row can hold one.
  text: { type: 'string', minLength: 1, maxLength: MAX_TEXT_LENGTH, pattern: '^[^\\u0000]*$' },
  'date-from': { type: 'string', pattern: ISO_DATE_PATTERN },
  'date-to': { type: 'string', pattern: ISO_DATE_PATTERN },
  ip: { type: 'string', minLength: 1, maxLength: 64 },
}

/** What each failed schema keyword of a parameter means, in `parseListQuery()`'s words. */
function problemOf(kind: FilterKind | 'limit' | 'skip', keyword: string): string {
  if (kind === 'limit') return `expected an integer from 1 to ${MAX_LIMIT}`
  if (kind === 'skip') return `expected an integer from 0 to ${MAX_SKIP}`
  // A query string value is always a string: a failed `type` is a parameter given twice (an array).
  if (keyword === 'type') return 'given more than once'
  switch (kind) {
    case 'text':
      return keyword === 'pattern' ? 'must not contain a NUL character' : `expected 1 to ${MAX_TEXT_LENGTH} characters`
    case 'date-from':
    case 'date-to':
      return 'expected an ISO-8601 date such as 2024-05-01 or 2024-05-01T10:00:00Z'
    case 'ip':
      return 'expected an IPv4 or IPv6 address'
  }
}

/**
 * The querystring JSON Schema of a list route, from its spec: `limit` (integer 1–100, default 50),
 * `skip` (integer 0–999999999, default 0), each filter by its kind, and no other parameter
 * (`propertyNames`, so that an unknown parameter is a 400 rather than removed by Fastify's
 * `removeAdditional`). Relies on Fastify's default Ajv coercion of query strings to integers.
 * What a schema cannot say (a day that does not exist, an IP address, `from` after `to`) is left
 * to `parseValidatedListQuery()`.
 */
export function listQuerySchema(spec: ListSpec): Record<string, unknown> {
  const properties: Record<string, object> = {
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
    skip: { type: 'integer', minimum: 0, maximum: MAX_SKIP, default: 0 },
  }
  for (const [param, filter] of Object.entries(spec.filters)) properties[param] = FILTER_SCHEMAS[filter.kind]
  return { type: 'object', properties, propertyNames: { enum: Object.keys(properties) } }
}

/**
 * A list route's `schemaErrorFormatter`: the first schema error as the `InvalidQueryError` that
 * `parseListQuery()` would throw for it (same code, message and `parameter`), so a bad parameter
 * answers the same 400 with or without the schema.
 */
export function listQueryErrorFormatter(spec: ListSpec): (errors: FastifySchemaValidationError[]) => Error {
  const known = ['limit', 'skip', ...Object.keys(spec.filters)].join(', ')
  return (errors) => {
    const unknown = errors.find((e) => e.keyword === 'propertyNames')
    if (unknown !== undefined) {
      return new InvalidQueryError(String(unknown.params.propertyName), `unknown parameter (known: ${known})`)
    }
    const error = errors[0]
    const param = error === undefined ? 'query' : error.instancePath.slice(1).split('/')[0] ?? ''
    if (param === 'limit' || param === 'skip') return new InvalidQueryError(param, problemOf(param, error!.keyword))
    const filter = Object.hasOwn(spec.filters, param) ? spec.filters[param] : undefined
    if (filter === undefined) return new InvalidQueryError('query', 'expected an object of parameters')
    return new InvalidQueryError(param, problemOf(filter.kind, error!.keyword))
  }
}
