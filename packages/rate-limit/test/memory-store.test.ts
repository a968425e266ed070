import Fastify from 'fastify'
import { opskitCore } from '@opskit/core'
import { describe, expect, it } from 'vitest'
import { opskitRateLimit } from '@opskit/rate-limit'
// The stores are internal (not exported): tested here from the source.
import { MemorySlidingStore, MemoryStore } from '../src/memory-store.js'
import type { PolicyResult } from '../src/store.js'

function hitOnce(store: MemoryStore | MemorySlidingStore, key: string, windowMs: number, limit = 100, now = Date.now()): PolicyResult {
  const out: PolicyResult[] = [{ exhausted: false, remaining: 0, resetMs: 0 }]
  store.hitSync([key], [windowMs], [limit], now, out)
  return out[0]!
}

describe('memory store', () => {
  for (const Store of [MemoryStore, MemorySlidingStore]) {
    it(`${Store.name} stays bounded to its cache size under a flood of 50k distinct keys`, () => {
      const store = new Store(5000)
      for (let i = 0; i < 50_000; i++) hitOnce(store, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 60_000)
      expect(store.size).toBeLessThanOrEqual(5000)
      expect(store.size).toBeGreaterThan(0)
    })
  }

  it('counts hits inside a window and starts over after it', async () => {
    const store = new MemoryStore(10)
    expect(hitOnce(store, 'k', 50)).toMatchObject({ remaining: 99, exhausted: false })
    const second = hitOnce(store, 'k', 50)
    expect(second.remaining).toBe(98)
    expect(second.resetMs).toBeGreaterThan(0)
    expect(second.resetMs).toBeLessThanOrEqual(50)
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(hitOnce(store, 'k', 50).remaining).toBe(99)
  })

  it('through the plugin: a flood of distinct IPs evicts the oldest counter instead of growing', async () => {
    const app = Fastify()
    await app.register(opskitCore)
    await app.register(opskitRateLimit, { max: 1, cache: 100 })
    app.get('/', async () => 'ok')
    try {
      expect((await app.inject({ url: '/', remoteAddress: '10.9.9.9' })).statusCode).toBe(200)
      expect((await app.inject({ url: '/', remoteAddress: '10.9.9.9' })).statusCode).toBe(429)
      for (let i = 0; i < 200; i++) await app.inject({ url: '/', remoteAddress: `10.1.${i >> 8}.${i & 255}` })
      // the first client's counter was dropped (bounded store), so it starts a fresh window
      expect((await app.inject({ url: '/', remoteAddress: '10.9.9.9' })).statusCode).toBe(200)
    } finally {
      await app.close()
    }
  })
})
