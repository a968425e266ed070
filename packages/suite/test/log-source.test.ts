import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig, opskit, serverOptions } from '@opskit/suite'

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

type Line = Record<string, any>

async function build(env: Record<string, string>): Promise<{ app: FastifyInstance; lines: () => Line[] }> {
  const chunks: string[] = []
  const destination = new Writable({ write: (chunk, _encoding, callback) => { chunks.push(String(chunk)); callback() } })
  const config = loadConfig({ LOG_LEVEL: 'warn', ...env })
  const instance = Fastify(serverOptions(config, { destination }))
  app = instance
  await instance.register(opskit, { config, audit: false, metrics: false })
  instance.get('/hello', async (request) => {
    request.log.warn('slow downstream')
    return { hello: 'world' }
  })
  instance.post('/login', { config: { securityLog: false } }, async (request) => {
    await request.securityEvent('login_failure', { details: { reason: 'bad password' } })
    return { ok: false }
  })
  await instance.ready()
  return { app: instance, lines: () => chunks.join('').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Line) }
}

const lineWith = (lines: Line[], text: string): Line | undefined => lines.find((line) => String(line.message).includes(text))

// Regression: source.file on WARN lines pointed into opskit's own build output
// (packages/security-log/dist/log-line.js, node_modules/@opskit/suite/dist/shared-services.js).
describe('source on WARN lines', () => {
  it('a line about opskit internals names the component; a line from user code points at user code', async () => {
    const built = await build({ RATE_LIMIT_REQUESTS: '2', RATE_LIMIT_PERIOD: '60' })
    for (let i = 0; i < 3; i++) await built.app.inject({ url: '/hello', remoteAddress: '203.0.113.9' })
    await built.app.inject({ method: 'POST', url: '/login', remoteAddress: '203.0.113.10' })
    const lines = built.lines()

    // opskit's own lines: the component, and the file inside that package, never a path on disk.
    const embedded = lineWith(lines, 'DATABASE_URL is not set')
    expect(embedded?.source).toMatchObject({ component: '@opskit/suite', file: expect.stringMatching(/^@opskit\/suite\/(src|dist)\/shared-services\.[jt]s$/) })
    const limited = lineWith(lines, 'Rate limit hit')
    expect(limited?.source).toMatchObject({ component: '@opskit/rate-limit', file: expect.stringMatching(/^@opskit\/rate-limit\//) })
    const autoCaptured = lineWith(lines, 'Security event rate_limit_hit')
    expect(autoCaptured?.source).toMatchObject({ component: expect.stringMatching(/^@opskit\//) })

    // The user's own line, and the user's call into opskit: the user's file.
    const own = lineWith(lines, 'slow downstream')
    expect(own?.source).toEqual({ file: expect.stringMatching(/test[\\/]log-source\.test\.ts$/), line: expect.any(Number), function: expect.any(String) })
    const viaOpskit = lineWith(lines, 'Security event login_failure')
    expect(viaOpskit?.source).toMatchObject({ file: expect.stringMatching(/test[\\/]log-source\.test\.ts$/) })
    expect(viaOpskit?.source).not.toHaveProperty('component')

    for (const line of lines.filter((l) => l.source !== undefined)) {
      if (line.source.component !== undefined) expect(String(line.source.file), line.message).toMatch(/^@opskit\/[a-z-]+\/(src|dist)\//)
      else expect(String(line.source.file), line.message).not.toMatch(/node_modules|(^|[\\/])packages[\\/][a-z-]+[\\/](src|dist)[\\/]/)
    }
  })
})
