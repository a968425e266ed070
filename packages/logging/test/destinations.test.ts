import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { closeLogger, createLogger, FST_LOGGING_INVALID_OPTION, type CreateLoggerOptions } from '@opskit/logging'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { stderrOf } from '../../../test-utils/env-stderr.js'
import { writeInBatches } from '../../../test-utils/server-log-batches.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'opskit-logging-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

function memory(): { stream: { write(line: string): void }; text(): string } {
  const chunks: string[] = []
  return { stream: { write: (line: string) => void chunks.push(line) }, text: () => chunks.join('') }
}

describe('destinations', () => {
  test('file: every line goes to the stdout stream AND to the file', async () => {
    const out = memory()
    const logger = createLogger({ format: 'json', destination: out.stream, file: join(dir, 'app.log') })
    logger.info({ n: 1 }, 'first')
    logger.warn('second')
    await closeLogger(logger)
    const files = await readdir(dir)
    expect(files).toEqual(['app.1.log'])
    const fileLines = (await readFile(join(dir, 'app.1.log'), 'utf8')).trim().split('\n')
    const outLines = out.text().trim().split('\n')
    expect(fileLines).toEqual(outLines)
    expect(fileLines.map((l) => JSON.parse(l).message)).toEqual(['first', 'second'])
  })

  test('file with stdout: false writes the file only', async () => {
    const out = memory()
    const logger = createLogger({ format: 'json', destination: out.stream, stdout: false, file: { path: join(dir, 'only.log') } })
    logger.info('to the file')
    await closeLogger(logger)
    expect(out.text()).toBe('')
    expect(await readFile(join(dir, 'only.1.log'), 'utf8')).toContain('"message":"to the file"')
  })

  test('file batching: a full batch is written without a flush, a short one within about a second', async () => {
    const logger = createLogger({ format: 'json', stdout: false, file: join(dir, 'batch.log') })
    const path = join(dir, 'batch.1.log')
    const read = (): Promise<string> => readFile(path, 'utf8').catch(() => '')
    const until = async (check: (text: string) => boolean, ms: number): Promise<string> => {
      const end = Date.now() + ms
      let text = await read()
      while (!check(text) && Date.now() < end) {
        await new Promise((resolve) => setTimeout(resolve, 25))
        text = await read()
      }
      return text
    }
    try {
      await new Promise((resolve) => setTimeout(resolve, 50)) // the file is open
      for (let i = 0; i < 160; i++) logger.info({ i, pad: 'x'.repeat(100) }, 'bulk') // ~28 KiB
      const bulk = await until((text) => text.includes('"i":80'), 500)
      expect(bulk).toContain('"i":80') // the first 16 KiB, written well before the 1 s timer
      logger.info('alone')
      expect(await read()).not.toContain('"message":"alone"') // batched, not one write per line
      const later = await until((text) => text.includes('"message":"alone"'), 2500)
      expect(later).toContain('"message":"alone"')
      expect(later.trim().split('\n').map((line) => JSON.parse(line).message)).toEqual([...Array(160).fill('bulk'), 'alone'])
    } finally {
      await closeLogger(logger)
    }
  })

  test('a file that cannot be opened is reported once, and logging to stdout carries on', async () => {
    const blocker = join(dir, 'not-a-dir')
    await writeFile(blocker, 'x')
    const out = memory()
    const errors = await stderrOf(async () => {
      const logger = createLogger({ format: 'json', destination: out.stream, file: join(blocker, 'app.log') })
      await new Promise((resolve) => setTimeout(resolve, 100))
      for (let i = 0; i < 1000; i++) logger.info({ i }, 'still logging')
      await closeLogger(logger)
    })
    expect(errors.filter((e) => e.includes('@opskit/logging: log file error'))).toHaveLength(1)
    expect(out.text().trim().split('\n')).toHaveLength(1000)
  })

  test('rotation: a new file once maxSize is reached, at most maxFiles kept, no line lost from the kept files', async () => {
    const logger = createLogger({ format: 'json', stdout: false, file: { path: join(dir, 'rot.log'), maxSize: '2k', maxFiles: 3 } })
    await writeInBatches(logger, { batches: 8, perBatch: 10 })
    await closeLogger(logger)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const files = (await readdir(dir)).filter((f) => /^rot\.\d+\.log$/.test(f))
    const numbers = files.map((f) => Number(f.split('.')[1])).sort((a, b) => a - b)
    expect(numbers.length).toBeGreaterThan(1)
    expect(numbers.length).toBeLessThanOrEqual(3)
    expect(numbers[numbers.length - 1]).toBeGreaterThan(3) // rotated several times, old files deleted
    const last = (await readFile(join(dir, `rot.${numbers[numbers.length - 1]}.log`), 'utf8')) + (await readFile(join(dir, `rot.${numbers[numbers.length - 2]}.log`), 'utf8'))
    for (const line of last.trim().split('\n')) expect(JSON.parse(line)).toMatchObject({ message: 'line' })
    const newest = await Promise.all(numbers.map((n) => readFile(join(dir, `rot.${n}.log`), 'utf8')))
    expect(newest.join('')).toContain('"batch":7,"i":9')
  })

  test('a rotation whose next file cannot be opened is reported, does not throw, and loses no line: regression for an uncaught EISDIR', async () => {
    await mkdir(join(dir, 'rot.2.log')) // the next file's name is taken by a directory
    const uncaught: unknown[] = []
    const onUncaught = (err: unknown): void => void uncaught.push(err)
    process.prependListener('uncaughtException', onUncaught)
    let errors: string[]
    try {
      errors = await stderrOf(async () => {
        const logger = createLogger({ format: 'json', stdout: false, file: { path: join(dir, 'rot.log'), maxSize: '1k', maxFiles: 10 } })
        await writeInBatches(logger, { batches: 5, perBatch: 20 })
        await closeLogger(logger)
        await new Promise((resolve) => setTimeout(resolve, 50))
      })
    } finally {
      process.removeListener('uncaughtException', onUncaught)
    }
    expect(uncaught).toEqual([])
    expect(errors.filter((e) => e.includes('EISDIR'))).toHaveLength(1)
    expect(errors.filter((e) => e.includes('EBADF'))).toEqual([]) // the current file is not closed twice
    const files = (await readdir(dir)).filter((f) => f !== 'rot.2.log')
    const lines = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('').split('\n').filter((l) => l !== '')
    expect(lines).toHaveLength(100)
    expect(files.length).toBeGreaterThan(2) // rotation carried on after the failure
  })

  test('pretty format writes human-readable, non-JSON lines with level, logger and message', async () => {
    const sink = new PassThrough()
    let text = ''
    sink.on('data', (d) => (text += d))
    const logger = createLogger({ format: 'pretty', destination: sink, name: 'api' })
    logger.info({ order: 7, password: 'hunter2' }, 'order placed')
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(text).toContain('INFO')
    expect(text).toContain('[api] order placed')
    expect(text).toContain('order: 7')
    expect(text).not.toContain('hunter2')
    expect(() => JSON.parse(text.split('\n')[0]!)).toThrow()
  })

  test('LOG_LEVEL, LOG_FORMAT and LOG_FILE are the defaults', async () => {
    const saved = { LOG_LEVEL: process.env.LOG_LEVEL, LOG_FORMAT: process.env.LOG_FORMAT, LOG_FILE: process.env.LOG_FILE }
    try {
      process.env.LOG_LEVEL = 'warn'
      process.env.LOG_FORMAT = 'json'
      process.env.LOG_FILE = join(dir, 'env.log')
      const out = memory()
      const logger = createLogger({ destination: out.stream })
      logger.info('dropped')
      logger.warn('kept')
      await closeLogger(logger)
      expect(out.text()).not.toContain('dropped')
      expect(JSON.parse(out.text()).message).toBe('kept')
      expect(await readFile(join(dir, 'env.1.log'), 'utf8')).toContain('"message":"kept"')
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
    }
  })

  test('invalid options throw FST_OPSKIT_LOGGING_INVALID_OPTION naming the option', () => {
    const cases: [CreateLoggerOptions, string][] = [
      [{ level: 'verbose' as never }, 'level'],
      [{ format: 'xml' as never }, 'format'],
      [{ file: '' }, 'file'],
      [{ file: { path: join(dir, 'a.log'), maxSize: 'huge' } }, 'file.maxSize'],
      [{ file: { path: join(dir, 'a.log'), maxFiles: 0 } }, 'file.maxFiles'],
      [{ file: 42 as never }, 'file'],
      [{ redact: 'password' as never }, 'redact'],
      [{ name: '' }, 'name'],
      [{ destination: {} as never }, 'destination'],
      [{ stdout: false }, 'stdout'],
      [{ levle: 'debug' } as never, 'levle'],
      [{ prefix: '/api' } as never, 'prefix'],
      [{ channels: [] as never }, 'channels'],
    ]
    for (const [options, name] of cases) {
      let error: unknown
      try {
        createLogger(options)
      } catch (err) {
        error = err
      }
      expect(error, name).toMatchObject({ code: 'FST_OPSKIT_LOGGING_INVALID_OPTION', message: expect.stringContaining(`"${name}"`) })
      // The deprecated export is the same class, so code catching it keeps working.
      expect(error, name).toBeInstanceOf(FST_LOGGING_INVALID_OPTION)
    }
  })
})
