// The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy` lists each
// policy (`"name";q=<quota>;w=<window seconds>`), `RateLimit` its state (`"name";r=<remaining>;t=<seconds>`),
// both RFC 9651 Structured Fields Lists of Strings with Integer parameters.

/** The largest RFC 9651 Integer (15 digits). */
const SF_INTEGER_MAX = 999_999_999_999_999

function sfInteger(n: number): number {
  return n > SF_INTEGER_MAX ? SF_INTEGER_MAX : n
}

/** An RFC 9651 String: quoted, `\` and `"` escaped (names are checked for printable ASCII at register). */
export function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`
}

/** One member of `RateLimit-Policy`. The window is whole seconds, rounded up. */
export function policyItem(name: string, quota: number, windowMs: number): string {
  return `${sfString(name)};q=${sfInteger(quota)};w=${sfInteger(Math.ceil(windowMs / 1000))}`
}

/** One member of `RateLimit`. */
export function stateItem(name: string, remaining: number, resetSeconds: number): string {
  return `${sfString(name)};r=${sfInteger(remaining)};t=${sfInteger(resetSeconds)}`
}
