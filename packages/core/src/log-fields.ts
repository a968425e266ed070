/**
 * The fields of `@opskit/outbound`'s `external call` line for a call that answered (no error, no
 * body preview, below WARN), in their order on the line. A class (one shape) so that
 * `@opskit/logging` writes them with fixed keys instead of its per-key path; any other logger sees a
 * plain object with these own properties. Here, not in either package, because both read it and
 * neither depends on the other.
 */
export class ExternalCallFields {
  constructor(
    readonly service: string,
    readonly method: string,
    readonly url: string,
    readonly status_code: number | null,
    readonly duration_ms: number,
    // The request the call was made in (undefined outside one), as on every line of that request.
    readonly request_id: string | undefined,
    readonly user_id: string | undefined,
  ) {}
}
