import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Checks `Authorization: Bearer <token>` in constant time: both sides are hashed first, so
 * neither the token's content nor its length leaks through timing.
 */
export function createBearerCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest()
  return function isAuthorized(authorization) {
    if (typeof authorization !== 'string' || authorization.length < 8) return false
    const scheme = authorization.slice(0, 7)
    if (scheme.toLowerCase() !== 'bearer ') return false
    const given = createHash('sha256').update(authorization.slice(7).trim()).digest()
    return timingSafeEqual(given, expected)
  }
}
