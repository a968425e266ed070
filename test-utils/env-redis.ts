import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'

/** `REDIS_URL` when set (tests against the real Redis run), else `undefined` (they are skipped, and say so). */
export const REDIS_URL: string | undefined = process.env.REDIS_URL

/**
 * Call inside a `describe` that runs against the real Redis: a key prefix of its own
 * (`<base>:<uuid>:`) and an admin client; after the suite every key under the prefix is deleted
 * and the client closed.
 */
export function redisKeyspace(base: string): { keyPrefix: string; admin: () => Redis } {
  const keyPrefix = `${base}:${randomUUID()}:`
  let admin: Redis | undefined
  beforeAll(() => {
    admin = new Redis(REDIS_URL!)
  })
  afterAll(async () => {
    if (admin === undefined) return
    const keys = await admin.keys(`${keyPrefix}*`)
    if (keys.length > 0) await admin.del(...keys)
    await admin.quit()
  })
  return {
    keyPrefix,
    admin: () => {
      if (admin === undefined) throw new Error('redisKeyspace(): the admin client exists once beforeAll ran')
      return admin
    },
  }
}
