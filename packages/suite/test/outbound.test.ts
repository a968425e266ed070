import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig, opskit, serverOptions, type OpskitOptions } from '@opskit/suite'

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.()
})

async function build(options: Omit<OpskitOptions, 'config'>, target: string): Promise<{ app: FastifyInstance; lines: () => Record<string, unknown>[] }> {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk))
      callback()
    },
  })
  const config = loadConfig({ APP_VERSION: '1.0.0' })
  const app = Fastify(serverOptions(config, { destination: stream }))
  cleanup.push(() => app.close())
  await app.register(opskit, { config, audit: false, securityLog: false, ...options })
  app.get('/call', async () => (await fetch(`${target}/upstream`)).text())
  await app.ready()
  const lines = () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
  return { app, lines }
}

describe('opskit with @opskit/outbound', () => {
  it('is on by default: a call from a route is an external call line and a counted sample; outbound: false leaves it out', async () => {
    const server = createServer((_req, res) => res.end('ok'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanup.push(() => new Promise((resolve) => server.close(resolve)))
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

    const { app, lines } = await build({ outbound: { services: { upstream: '127.0.0.1' } } }, target)
    const res = await app.inject('/call')
    expect(res.body).toBe('ok')
    const line = lines().find((l) => l.message === 'external call')
    expect(line).toMatchObject({ logger: 'outbound', service: 'upstream', status_code: 200, request_id: res.headers['x-request-id'] })
    expect((await app.inject('/metrics')).body).toContain('http_client_requests_total{service="upstream",method="GET",status_code="200"} 1')

    const off = await build({ outbound: false }, target)
    await off.app.inject('/call')
    expect(off.lines().some((l) => l.message === 'external call')).toBe(false)
  })
})
