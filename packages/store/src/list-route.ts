import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AuthorizeFailedError, ForbiddenError, UnauthorizedError } from './errors.js'
import { parseValidatedListQuery, type ListResult, type ListSpec, type ParsedList } from './list-query.js'
import { listQueryErrorFormatter, listQuerySchema } from './list-schema.js'

export interface ListRouteOptions {
  /** Route path, e.g. `/audit`. */
  prefix: string
  /** Who may read the trail. Without it the route is not registered. */
  authorize?: (request: FastifyRequest) => boolean | Promise<boolean>
  spec: ListSpec
  list(parsed: ParsedList): Promise<ListResult<unknown>>
}

/**
 * The list routes' authorization, for any route that serves a trail (the list routes, the ops
 * console): `authorize(request)` alone decides. Anything but `true` throws a 401 when the request
 * has no actor and a 403 when it has one; a throwing `authorize` throws a 500 whose message never
 * carries the thrown one (that error is logged at ERROR instead), so nothing is served.
 * `what` names the route in that log line.
 */
export async function assertAuthorized(
  request: FastifyRequest,
  authorize: (request: FastifyRequest) => boolean | Promise<boolean>,
  what: string,
): Promise<void> {
  let allowed: unknown
  try {
    allowed = await authorize(request)
  } catch (err) {
    request.log.error({ err }, `authorize() threw on ${what}; nothing served`)
    throw new AuthorizeFailedError()
  }
  if (allowed !== true) {
    if ((request as { actor?: unknown }).actor == null) {
      throw new UnauthorizedError()
    }
    throw new ForbiddenError()
  }
}

/**
 * `GET <prefix>`: authorized by `assertAuthorized` (401 / 403 / 500 without the thrown message, no
 * row served), then the querystring: a JSON Schema made from `spec` (`listQuerySchema`), whose
 * errors answer the same 400 `InvalidQueryError` naming the parameter as `parseListQuery()` throws,
 * and what a schema cannot say (`parseValidatedListQuery`). Else 200 `{ items, limit, skip, total }`.
 * Not registered when `authorize` is missing, so a trail is never public by accident. Other route
 * config (rate limits...) is left to the app.
 *
 * Authorization runs in `preValidation`, before the querystring is looked at: a reader who may not
 * read learns nothing from a 400 about which parameters exist.
 */
export function registerListRoute(fastify: FastifyInstance, opts: ListRouteOptions): void {
  const { prefix, authorize, spec, list } = opts
  if (typeof authorize !== 'function') return
  const what = `GET ${prefix}`
  fastify.route({
    method: 'GET',
    url: prefix,
    schema: { querystring: listQuerySchema(spec) },
    schemaErrorFormatter: listQueryErrorFormatter(spec),
    preValidation: (request: FastifyRequest) => assertAuthorized(request, authorize, what),
    handler: (request: FastifyRequest) => list(parseValidatedListQuery(request.query as Record<string, unknown>, spec)),
  })
}
