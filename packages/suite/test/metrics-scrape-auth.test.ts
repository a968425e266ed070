import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig, opskit, serverOptions } from '@opskit/suite'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

describe('a scraper with a missing or stale METRICS_TOKEN', () => {
  // Regression: every refused scrape recorded a token_invalid security event, so a misconfigured
  // scraper (one request every 15 s, forever) filled security_logs.
  it('records no security event per refused scrape: one WARN, and metrics_auth_failures_total counts them', async () => {
    const chunks: string[] = []
    const destination = new Writable({ write: (chunk, _encoding, callback) => { chunks.push(String(chunk)); callback() } })
    const config = loadConfig({ METRICS_TOKEN: 'scrape-token', LOG_LEVEL: 'warn' })
    app = Fastify(serverOptions(config, { destination }))
    await app.register(opskit, { config, rateLimit: false, audit: false })
    app.get('/private', async (_request, reply) => reply.code(401).send({ error: 'no' }))
    for (let i = 0; i < 5; i++) expect((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer stale' } })).statusCode).toBe(401)
    expect((await app.inject('/metrics')).statusCode).toBe(401)
    // An app route's 401 still is a security event.
    expect((await app.inject('/private')).statusCode).toBe(401)

    await app.securityLog.flush()
    const events = await app.securityLog.query({ action: 'token_invalid' })
    expect(events.items.map((item) => item.request_path)).toEqual(['/private'])
    const scrape = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-token' } })
    expect(scrape.body).toMatch(/^metrics_auth_failures_total 6$/m)
    const warns = chunks.join('').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, any>)
      .filter((line) => line.level === 'WARN' && String(line.message).includes('refused a scrape'))
    expect(warns).toHaveLength(1)
  })
})
