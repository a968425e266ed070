import type { RequestContext } from './types.js'

/**
 * Where an `ExternalCallFields` keeps the request context its call was made in. A symbol: no
 * logger writes it (JSON and pino's serializer skip symbol keys), `@opskit/logging` reads it.
 */
export const CALL_CONTEXT: unique symbol = Symbol('opskit.callContext')

/**
 * The fields of `@opskit/outbound`'s `external call` line for a call that answered (no error, no
 * body preview, below WARN), in their order on the line. A class (one shape) so that
 * `@opskit/logging` writes them with fixed keys instead of its per-key path, and takes the request
 * context from the call (`CALL_CONTEXT`), not from where the line happens to be written (a client's
 * socket callback runs in the context of whichever request opened the connection); any other
 * logger sees a plain object with these own properties. Here, not in either package, because both
 * read it and neither depends on the other.
 */
export class ExternalCallFields {
  readonly [CALL_CONTEXT]: RequestContext | null

  constructor(
    readonly service: string,
    readonly method: string,
    readonly url: string,
    readonly status_code: number | null,
    readonly duration_ms: number,
    // The request the call was made in (undefined outside one), as on every line of that request.
    readonly request_id: string | undefined,
    readonly user_id: string | undefined,
    context: RequestContext | null = null,
  ) {
    this[CALL_CONTEXT] = context
  }
}
