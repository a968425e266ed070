import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { writeInBatches } from '../../../test-utils/server-log-batches.js'
import { closeLogger } from '@opskit/logging'
import { loadConfig, serverOptions } from '@opskit/suite'
import { jsonLines as memoryDestination } from '../../../test-utils/server-log-capture.js'

function collectWarnings(): { codes: string[]; stop: () => void } {
  const codes: string[] = []
  const onWarning = (warning: Error & { code?: string }): void => {
    codes.push(warning.code ?? warning.name)
  }
  process.on('warning', onWarning)
  return { codes, stop: () => process.off('warning', onWarning) }
}

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

describe('serverOptions', () => {
  // Fastify emits each deprecation warning once per process, so this test must run before the
  // control below that provokes one.
  it('builds a Fastify that prints no FSTDEP deprecation warning', async () => {
    const warnings = collectWarnings()
    const { stream } = memoryDestination()
    app = Fastify(serverOptions(loadConfig({}), { destination: stream }))
    app.get('/', async () => 'ok')
    await app.ready()
    await app.inject('/')
    await new Promise((resolve) => setImmediate(resolve))
    warnings.stop()
    expect(warnings.codes.filter((code) => code.startsWith('FSTDEP'))).toEqual([])
  })

  // A deliberate control: it provokes FSTDEP023/FSTDEP024 on purpose, so process.emitWarning is
  // captured for its duration and the warnings are asserted here instead of being printed into the
  // test output, where they read like a bug of ours.
  it('(control) the top-level options it replaces do trigger FSTDEP023/FSTDEP024 on this Fastify (captured, not printed)', async () => {
    const codes: string[] = []
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(((warning: string | Error, type?: unknown, code?: unknown) => {
      codes.push(typeof code === 'string' ? code : warning instanceof Error ? String((warning as { code?: string }).code ?? warning.name) : String(type))
    }) as typeof process.emitWarning)
    try {
      app = Fastify({ disableRequestLogging: true, requestIdLogLabel: 'request_id' })
      await app.ready()
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      emitWarning.mockRestore()
    }
    expect(codes).toEqual(expect.arrayContaining(['FSTDEP023', 'FSTDEP024']))
  })

  it('labels request log lines request_id and turns Fastify\'s own request logging off', async () => {
    const { stream, lines } = memoryDestination()
    app = Fastify(serverOptions(loadConfig({ APP_NAME: 'bookings' }), { destination: stream }))
    app.get('/hello', async (request) => {
      request.log.info('inside the handler')
      return { hello: 'world' }
    })
    const res = await app.inject({ url: '/hello', headers: { 'x-request-id': 'abc-123' } })
    expect(res.statusCode).toBe(200)
    const written = lines()
    const handlerLine = written.find((line) => line.message === 'inside the handler')
    expect(handlerLine).toMatchObject({ request_id: 'abc-123', logger: 'bookings', level: 'INFO' })
    expect(handlerLine).not.toHaveProperty('reqId')
    // Fastify's "incoming request" / "request completed" pair is gone (the logging plugin writes its own line).
    expect(written.filter((line) => line.message === 'incoming request' || line.msg === 'incoming request')).toEqual([])
    expect(written.filter((line) => line.message === 'request completed')).toEqual([])
  })

  it('reuses a valid incoming x-request-id and replaces an unsafe one', async () => {
    const options = serverOptions(loadConfig({}), { destination: memoryDestination().stream })
    app = Fastify(options)
    app.get('/id', async (request) => ({ id: request.id }))
    const reused = await app.inject({ url: '/id', headers: { 'x-request-id': 'req.42:a-b_c' } })
    expect(reused.json()).toEqual({ id: 'req.42:a-b_c' })
    const replaced = await app.inject({ url: '/id', headers: { 'x-request-id': 'has spaces and a very long tail' } })
    expect(replaced.json().id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    const fresh = await app.inject('/id')
    expect(fresh.json().id).not.toBe(replaced.json().id)
  })

  it("turns Fastify's return503OnClosing off, so @opskit/health's drain can answer readiness shutting_down and serve every route", () => {
    expect(serverOptions(loadConfig({}), { destination: memoryDestination().stream }).return503OnClosing).toBe(false)
  })

  it('gives plugins 30 s to start (embedded PGlite can be slow on a busy machine)', () => {
    expect(serverOptions(loadConfig({}), { destination: memoryDestination().stream }).pluginTimeout).toBe(30_000)
  })

  it('also writes every line to the rotating LOG_FILE from the config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'opskit-suite-log-file-'))
    try {
      const { stream, lines } = memoryDestination()
      const { loggerInstance } = serverOptions(loadConfig({ LOG_FILE: join(dir, 'app.log') }), { destination: stream })
      loggerInstance.info('to both')
      await closeLogger(loggerInstance)
      const fileLines = (await readFile(join(dir, 'app.1.log'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
      expect(fileLines).toEqual([expect.objectContaining({ message: 'to both', level: 'INFO' })])
      expect(lines()).toEqual([expect.objectContaining({ message: 'to both' })])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('LOG_DIR, LOG_FILE_MAX_BYTES and LOG_FILE_BACKUP_COUNT from the config: <LOG_DIR>/<APP_NAME>.log, rotated at that size, that many kept', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'opskit-suite-log-dir-'))
    try {
      const config = loadConfig({ APP_NAME: 'bookings', LOG_DIR: dir, LOG_FILE_MAX_BYTES: '1024', LOG_FILE_BACKUP_COUNT: '2' })
      const { loggerInstance } = serverOptions(config, { stdout: false })
      await writeInBatches(loggerInstance, { batches: 6, perBatch: 10 })
      await closeLogger(loggerInstance)
      const files = await readdir(dir)
      expect(files).toHaveLength(3) // two backups and the active file
      expect(files.every((file) => /^bookings\.\d+\.log$/.test(file))).toBe(true)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('takes level and name from the config', async () => {
    const { stream, lines } = memoryDestination()
    app = Fastify(serverOptions(loadConfig({ LOG_LEVEL: 'warn', APP_NAME: 'quiet' }), { destination: stream }))
    app.log.info('not written')
    app.log.warn('written')
    await app.ready()
    expect(lines().map((line) => [line.message, line.logger])).toEqual([['written', 'quiet']])
  })
})
