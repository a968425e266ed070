import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { opskitCore } from '@opskit/core'
import { closeLogger, createLogger, fastifyLoggingOptions, flushLogger, getLogger, opskitLogging, type CreateLoggerOptions } from '@opskit/logging'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { stderrOf } from '../../../test-utils/env-stderr.js'
import { writeInBatches } from '../../../test-utils/server-log-batches.js'
import { RollingFile } from '../src/rolling-file.js'

let dir: string
let app: FastifyInstance | undefined
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opskit-channels-'))
})
afterEach(async () => {
  if (app !== undefined) await closeLogger(app.log)
  await app?.close()
  app = undefined
  await rm(dir, { recursive: true, force: true })
})

function memory(): { stream: { write(line: string): void }; lines(): Record<string, unknown>[] } {
  const chunks: string[] = []
  return {
    stream: { write: (line: string) => void chunks.push(line) },
    lines: () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
  }
}

async function fileLines(path: string): Promise<Record<string, unknown>[]> {
  const text = path.endsWith('.gz') ? gunzipSync(await readFile(path)).toString('utf8') : await readFile(path, 'utf8')
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
}

async function withEnv(vars: Record<string, string | undefined>, fn: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  try {
    await fn()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

describe('log channels', () => {
  test('getLogger(<channel>) writes to the channel file and stdout, not the main file; other loggers write the main file', async () => {
    const out = memory()
    const logger = createLogger({
      format: 'json',
      level: 'info',
      name: 'publisher',
      destination: out.stream,
      file: join(dir, 'app.log'),
      channels: {
        webhooks: { file: join(dir, 'webhooks.log') },
        'wordpress-api': { file: join(dir, 'wordpress-api.log') },
      },
    })
    logger.info('main line')
    logger.child({ logger: 'webhooks' }).info({ event: 'post.updated' }, 'webhook received')
    logger.child({ logger: 'wordpress-api' }).info('GET /wp-json/wp/v2/posts')
    logger.child({ logger: 'orders' }).info('not a channel')
    await closeLogger(logger)
    expect((await readdir(dir)).sort()).toEqual(['app.1.log', 'webhooks.1.log', 'wordpress-api.1.log'])
    expect((await fileLines(join(dir, 'app.1.log'))).map((l) => l.message)).toEqual(['main line', 'not a channel'])
    expect(await fileLines(join(dir, 'webhooks.1.log'))).toEqual([expect.objectContaining({ logger: 'webhooks', message: 'webhook received', event: 'post.updated' })])
    expect((await fileLines(join(dir, 'wordpress-api.1.log'))).map((l) => l.logger)).toEqual(['wordpress-api'])
    // stdout has every line, in order
    expect(out.lines().map((l) => l.message)).toEqual(['main line', 'webhook received', 'GET /wp-json/wp/v2/posts', 'not a channel'])
  })

  test('each channel has its own level (its file and stdout)', async () => {
    const out = memory()
    const logger = createLogger({
      format: 'json',
      level: 'info',
      destination: out.stream,
      stdout: true,
      channels: { publish_sync: { file: join(dir, 'publish_sync.log'), level: 'debug' }, webhooks: { file: join(dir, 'webhooks.log'), level: 'warn' } },
    })
    logger.debug('main debug dropped')
    logger.child({ logger: 'publish_sync' }).debug('sync debug kept')
    logger.child({ logger: 'webhooks' }).info('webhook info dropped')
    logger.child({ logger: 'webhooks' }).warn('webhook warn kept')
    await closeLogger(logger)
    expect(out.lines().map((l) => l.message)).toEqual(['sync debug kept', 'webhook warn kept'])
    expect((await fileLines(join(dir, 'publish_sync.1.log'))).map((l) => l.message)).toEqual(['sync debug kept'])
    expect((await fileLines(join(dir, 'webhooks.1.log'))).map((l) => l.message)).toEqual(['webhook warn kept'])
  })

  test('inside a request, channel lines carry request_id and user_id and are redacted; a module-level getLogger follows the app\'s channel', async () => {
    const early = getLogger('webhooks') // made before the app's logger exists
    const out = memory()
    const logger = createLogger({ format: 'json', level: 'info', destination: out.stream, channels: { webhooks: { file: join(dir, 'webhooks.log') } } })
    app = Fastify(fastifyLoggingOptions(logger))
    await app.register(opskitCore, { resolveActor: () => ({ id: 'u-5', tenantId: 't-1' }) })
    await app.register(opskitLogging)
    app.post('/hooks', async () => {
      getLogger('webhooks').info({ password: 'hunter2', from: 'editor@example.com' }, 'hook from editor@example.com')
      early.info('early logger')
      return { ok: true }
    })
    app.post('/bound', async (request) => {
      await new Promise((resolve) => setImmediate(resolve))
      request.log.child({ logger: 'webhooks' }).info('from request.log')
      return { ok: true }
    })
    await app.inject({ method: 'POST', url: '/hooks', headers: { 'x-request-id': 'req-1' } })
    await app.inject({ method: 'POST', url: '/bound', headers: { 'x-request-id': 'req-1' } })
    await flushLogger(app.log)
    const lines = await fileLines(join(dir, 'webhooks.1.log'))
    expect(lines.map((l) => l.message)).toEqual(['hook from e***r@example.com', 'early logger', 'from request.log'])
    for (const line of lines) expect(line).toMatchObject({ logger: 'webhooks', request_id: 'req-1', user_id: 'u-5', tenant_id: 't-1' })
    expect(lines[0]).toMatchObject({ password: '[REDACTED]', from: 'e***r@example.com' })
    expect(JSON.stringify(lines)).not.toContain('hunter2')
    // `request completed` goes to stdout (the main logger), not to the channel file
    expect(out.lines().filter((l) => l.message === 'request completed')).toHaveLength(2)
    expect(lines.some((l) => l.message === 'request completed')).toBe(false)
  })

  test('a channel file that cannot be opened is reported once, throws nothing, keeps no lines; stdout and the other files carry on', async () => {
    const blocker = join(dir, 'not-a-dir')
    await writeFile(blocker, 'x')
    const out = memory()
    const errors = await stderrOf(async () => {
      const logger = createLogger({ format: 'json', destination: out.stream, file: join(dir, 'app.log'), channels: { broken: { file: join(blocker, 'broken.log') } } })
      const broken = logger.child({ logger: 'broken' })
      await new Promise((resolve) => setTimeout(resolve, 100))
      for (let i = 0; i < 500; i++) broken.info({ i }, 'to a broken channel')
      logger.info('main still fine')
      await closeLogger(logger)
    })
    expect(errors.filter((e) => e.includes('@opskit/logging: log file error'))).toHaveLength(1)
    expect(out.lines()).toHaveLength(501)
    expect((await fileLines(join(dir, 'app.1.log'))).map((l) => l.message)).toEqual(['main still fine'])
  })

  test('a file that failed to open drops what is written to it (nothing held in memory)', async () => {
    const blocker = join(dir, 'blocker')
    await writeFile(blocker, 'x')
    const file = new RollingFile({ path: join(blocker, 'x.log'), maxSizeBytes: 1024, maxFiles: 2, compress: false, retentionDays: undefined })
    file.on('error', () => undefined)
    await file.ready
    for (let i = 0; i < 1000; i++) file.write(`{"i":${i},"pad":"${'x'.repeat(200)}"}\n`)
    expect((file as unknown as { buffer: string }).buffer).toBe('')
  })

  test('compress: rotated files are gzipped (app.1.log.gz …), the active one stays plain, no line lost, at most maxFiles kept', async () => {
    const logger = createLogger({ format: 'json', stdout: false, file: { path: join(dir, 'app.log'), maxSize: '2k', maxFiles: 10, compress: true } })
    let written = 0
    for (let batch = 0; batch < 4; batch++) {
      for (let i = 0; i < 12; i++) logger.info({ n: written++, pad: 'x'.repeat(100) }, 'line')
      await flushLogger(logger)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await closeLogger(logger)
    const files = (await readdir(dir)).sort()
    expect(files).toContain('app.1.log.gz')
    const plain = files.filter((f) => f.endsWith('.log'))
    expect(plain).toHaveLength(1) // the active file
    expect(files.length).toBeGreaterThan(2)
    const numbers = (await Promise.all(files.map((f) => fileLines(join(dir, f))))).flat().map((l) => l.n as number).sort((a, b) => a - b)
    expect(numbers).toEqual(Array.from({ length: written }, (_, i) => i))
  })

  test('compress with maxFiles: the gzipped files count, the newest are kept', async () => {
    const logger = createLogger({ format: 'json', stdout: false, file: { path: join(dir, 'app.log'), maxSize: '1k', maxFiles: 3, compress: true } })
    let written = 0
    for (let batch = 0; batch < 6; batch++) {
      for (let i = 0; i < 8; i++) logger.info({ n: written++, pad: 'x'.repeat(100) }, 'line')
      await flushLogger(logger)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await closeLogger(logger)
    const files = await readdir(dir)
    expect(files).toHaveLength(3)
    expect(files.filter((f) => f.endsWith('.log.gz'))).toHaveLength(2)
    const numbers = (await Promise.all(files.map((f) => fileLines(join(dir, f))))).flat().map((l) => l.n as number).sort((a, b) => a - b)
    expect(numbers[numbers.length - 1]).toBe(written - 1)
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => numbers[0]! + i))
  })

  test('compress and retention on a channel too', async () => {
    const logger = createLogger({ format: 'json', stdout: false, file: join(dir, 'app.log'), channels: { webhooks: { file: join(dir, 'webhooks.log'), maxSize: '1k', compress: true } } })
    const hooks = logger.child({ logger: 'webhooks' })
    await writeInBatches(logger, { batches: 3, perBatch: 10, log: hooks, msg: 'hook' })
    await closeLogger(logger)
    const files = await readdir(dir)
    expect(files).toContain('webhooks.1.log.gz')
    expect((await fileLines(join(dir, 'webhooks.1.log.gz')))[0]).toMatchObject({ logger: 'webhooks', batch: 0, i: 0 })
  })

  test('retentionDays: rotated files last written before the limit are deleted at open; recent ones and the active file stay', async () => {
    const day = 24 * 60 * 60 * 1000
    const old = new Date(Date.now() - 10 * day)
    await writeFile(join(dir, 'app.7.log.gz'), gzipSync('{"old":1}\n'))
    await writeFile(join(dir, 'app.8.log'), '{"old":2}\n')
    await writeFile(join(dir, 'app.9.log.gz'), gzipSync('{"recent":1}\n'))
    await writeFile(join(dir, 'other.2.log'), 'not ours\n')
    await utimes(join(dir, 'app.7.log.gz'), old, old)
    await utimes(join(dir, 'app.8.log'), old, old)
    await utimes(join(dir, 'other.2.log'), old, old)
    const logger = createLogger({ format: 'json', stdout: false, file: { path: join(dir, 'app.log'), retentionDays: 7 } })
    logger.info('fresh')
    await closeLogger(logger)
    expect((await readdir(dir)).sort()).toEqual(['app.1.log', 'app.9.log.gz', 'other.2.log'])
  })

  test('a file compressed late keeps its write time, so pruning keeps the newest written (regression: the .gz got the time it was compressed)', async () => {
    const hour = 60 * 60 * 1000
    await writeFile(join(dir, 'app.7.log.gz'), gzipSync('{"n":7}\n'))
    await writeFile(join(dir, 'app.8.log'), '{"n":8}\n')
    await writeFile(join(dir, 'app.9.log.gz'), gzipSync('{"n":9}\n'))
    await utimes(join(dir, 'app.7.log.gz'), new Date(Date.now() - 3 * hour), new Date(Date.now() - 3 * hour))
    await utimes(join(dir, 'app.8.log'), new Date(Date.now() - 4 * hour), new Date(Date.now() - 4 * hour))
    await utimes(join(dir, 'app.9.log.gz'), new Date(Date.now() - hour), new Date(Date.now() - hour))
    const logger = createLogger({ format: 'json', stdout: false, file: { path: join(dir, 'app.log'), maxFiles: 3, compress: true } })
    logger.info('fresh')
    await closeLogger(logger)
    // app.8 was written first (left plain by an earlier run): compressed now, it is still the oldest.
    expect((await readdir(dir)).sort()).toEqual(['app.1.log', 'app.7.log.gz', 'app.9.log.gz'])
  })

  test('a restart does not delete the files it writes (regression: pino-roll pruned by number, and numbered from 1 again)', async () => {
    for (let n = 5; n <= 9; n++) await writeFile(join(dir, `app.${n}.log`), `{"run":1,"n":${n}}\n`)
    const earlier = new Date(Date.now() - 60_000)
    for (let n = 5; n <= 9; n++) await utimes(join(dir, `app.${n}.log`), earlier, earlier)
    const logger = createLogger({ format: 'json', stdout: false, file: { path: join(dir, 'app.log'), maxSize: '1k', maxFiles: 3 } })
    await writeInBatches(logger, { batches: 3, perBatch: 10, fields: (batch, i) => ({ run: 2, batch, i }) })
    logger.info({ run: 2, last: true }, 'last')
    await closeLogger(logger)
    const files = await readdir(dir)
    expect(files.length).toBeLessThanOrEqual(3)
    const lines = (await Promise.all(files.map((f) => fileLines(join(dir, f))))).flat()
    expect(lines.some((l) => l.last === true)).toBe(true)
    expect(lines.filter((l) => l.run === 1)).toEqual([]) // the previous run's files went first
  })

  test('LOG_DIR puts the main file at <LOG_DIR>/<name>.log and relative channel files under it; LOG_FILE_MAX_BYTES and LOG_FILE_BACKUP_COUNT rotate it', async () => {
    await withEnv({ LOG_DIR: dir, LOG_FILE: undefined, LOG_FILE_MAX_BYTES: '1024', LOG_FILE_BACKUP_COUNT: '1' }, async () => {
      const logger = createLogger({ format: 'json', stdout: false, name: 'svc', channels: { webhooks: { file: 'webhooks.log' } } })
      await writeInBatches(logger, { batches: 4, perBatch: 10 })
      logger.child({ logger: 'webhooks' }).info('hook')
      await closeLogger(logger)
    })
    const files = await readdir(dir)
    expect(files).toContain('webhooks.1.log')
    const main = files.filter((f) => f.startsWith('svc.'))
    expect(main).toHaveLength(2) // one backup plus the active file
    expect(main.every((f) => /^svc\.\d+\.log$/.test(f))).toBe(true)
  })

  test('bad channel options and bad LOG_FILE_* values throw FST_OPSKIT_LOGGING_INVALID_OPTION naming them', async () => {
    const cases: [CreateLoggerOptions, string][] = [
      [{ channels: [] as never }, 'channels'],
      [{ channels: { a: { file: '' } } }, 'channels.a.file'],
      [{ channels: { a: { file: join(dir, 'a.log'), level: 'loud' as never } } }, 'channels.a.level'],
      [{ channels: { a: { file: join(dir, 'a.log'), maxSize: 'big' } } }, 'channels.a.maxSize'],
      [{ channels: { a: { file: join(dir, 'a.log'), maxFiles: 1 } } }, 'channels.a.maxFiles'],
      [{ channels: { a: { file: join(dir, 'a.log'), compress: 'yes' as never } } }, 'channels.a.compress'],
      [{ channels: { a: { file: join(dir, 'a.log'), retentionDays: 0 } } }, 'channels.a.retentionDays'],
      [{ channels: { a: { file: join(dir, 'a.log'), maxsize: '1m' } as never } }, 'channels.a.maxsize'],
      [{ channels: { a: { file: join(dir, 'same.log') }, b: { file: join(dir, 'same.log') } } }, 'channels.b.file'],
      [{ file: join(dir, 'main.log'), channels: { a: { file: join(dir, 'main.log') } } }, 'channels'],
      [{ file: { path: join(dir, 'x.log'), retentionDays: -1 } }, 'file.retentionDays'],
      [{ file: { path: join(dir, 'x.log'), compress: 1 as never } }, 'file.compress'],
    ]
    const check = (options: CreateLoggerOptions, name: string): void => {
      let error: unknown
      try {
        createLogger(options)
      } catch (err) {
        error = err
      }
      expect(error, name).toMatchObject({ code: 'FST_OPSKIT_LOGGING_INVALID_OPTION', message: expect.stringContaining(`"${name}"`) })
    }
    for (const [options, name] of cases) check(options, name)
    await withEnv({ LOG_FILE_MAX_BYTES: 'lots' }, async () => check({ file: join(dir, 'x.log') }, 'LOG_FILE_MAX_BYTES'))
    await withEnv({ LOG_FILE_BACKUP_COUNT: '0' }, async () => check({ file: join(dir, 'x.log') }, 'LOG_FILE_BACKUP_COUNT'))
  })
})
