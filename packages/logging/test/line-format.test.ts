import { ExternalCallFields } from '@opskit/core'
import { describe, expect, test } from 'vitest'
import { durationJson, RequestCompletedFields } from '../src/line-format.js'
import { captureLogger, rawKeys } from './capture.js'

describe('line format', () => {
  test('one JSON object per line: timestamp (ISO UTC), upper-case level, logger, message, then fields; no pid/hostname', () => {
    const { logger, raw, lines } = captureLogger({ name: 'orders' })
    logger.info({ order_id: 42 }, 'order placed')
    const [line] = lines()
    expect(rawKeys(raw().trim())).toEqual(['timestamp', 'level', 'logger', 'message', 'order_id'])
    expect(line).toEqual({ timestamp: expect.any(String), level: 'INFO', logger: 'orders', message: 'order placed', order_id: 42 })
    expect(line!.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    expect(Math.abs(Date.parse(line!.timestamp) - Date.now())).toBeLessThan(60_000)
  })

  test('level labels TRACE DEBUG INFO WARN ERROR FATAL', () => {
    const { logger, lines } = captureLogger()
    logger.trace('t')
    logger.debug('d')
    logger.info('i')
    logger.warn('w')
    logger.error('e')
    logger.fatal('f')
    expect(lines().map((l) => l.level)).toEqual(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'])
  })

  test('lines of several loggers, levels and messages written in a burst each start with their own level, logger and message, and a timestamp that moves on', async () => {
    const { logger, lines } = captureLogger({ name: 'api', level: 'trace' })
    const outbound = logger.child({ logger: 'outbound' })
    const expected: { level: string; logger: string; message: string }[] = []
    const write = (round: number): void => {
      for (const [log, name] of [[logger, 'api'], [outbound, 'outbound']] as const) {
        for (const level of ['info', 'warn', 'debug'] as const) {
          for (const message of ['external call', 'request completed', `round ${round}`]) {
            log[level](message)
            expected.push({ level: level.toUpperCase(), logger: name, message })
          }
        }
      }
    }
    write(1)
    const first = Date.now()
    await new Promise<void>(function later(resolve) {
      if (Date.now() > first) resolve()
      else setImmediate(later, resolve)
    })
    write(2)
    const written = lines()
    expect(written.map(({ level, logger: name, message }) => ({ level, logger: name, message }))).toEqual(expected)
    const stamps = written.map((l) => Date.parse(l.timestamp as string))
    expect(stamps.at(-1)).toBeGreaterThan(stamps[0]!)
    expect(stamps.every((t, i) => i === 0 || t >= stamps[i - 1]!)).toBe(true)
  })

  test('the level option filters lines', () => {
    const { logger, lines } = captureLogger({ level: 'warn' })
    logger.info('hidden')
    logger.warn('shown')
    expect(lines().map((l) => l.message)).toEqual(['shown'])
  })

  test('a line without a message has message ""; printf-style arguments are formatted', () => {
    const { logger, lines } = captureLogger()
    logger.info({ a: 1 })
    logger.info('%s has %d items', 'cart', 3)
    expect(lines().map((l) => l.message)).toEqual(['', 'cart has 3 items'])
  })

  test('an Error is serialized under err with type, message and stack', () => {
    const { logger, lines } = captureLogger()
    logger.error(new Error('boom'))
    const [line] = lines()
    expect(line!.message).toBe('boom')
    expect(line!.err).toMatchObject({ type: 'Error', message: 'boom', stack: expect.stringContaining('line-format.test.ts') })
  })

  test('never a duplicate key: a field named like a binding wins over it, reserved names are dropped', () => {
    const { logger, raw } = captureLogger()
    const child = logger.child({ shop: 'a', region: 'eu' })
    child.info({ shop: 'b', level: 'gold', logger: 'x', timestamp: 1 }, 'collide')
    child.child({ region: 'us' }).info('nested')
    const [first, second] = raw().trim().split('\n') as [string, string]
    const keys = rawKeys(first)
    expect(new Set(keys).size).toBe(keys.length)
    expect(JSON.parse(first)).toMatchObject({ level: 'INFO', logger: 'app', shop: 'b', region: 'eu' })
    const keys2 = rawKeys(second)
    expect(new Set(keys2).size).toBe(keys2.length)
    expect(JSON.parse(second)).toMatchObject({ shop: 'a', region: 'us' })
  })

  test('child({ logger }) renames the logger field instead of adding a second one', () => {
    const { logger, raw } = captureLogger({ name: 'api' })
    logger.child({ logger: 'billing' }).info('x')
    const line = raw().trim()
    expect(rawKeys(line).filter((k) => k === 'logger')).toHaveLength(1)
    expect(JSON.parse(line).logger).toBe('billing')
  })

  test('WARN and above carry source { file, line, function } pointing at the caller; INFO does not', () => {
    const { logger, lines } = captureLogger()
    function chargeCard(): void {
      logger.warn('card declined')
    }
    chargeCard()
    logger.error('failed')
    logger.info('fine')
    const [warn, error, info] = lines()
    expect(warn!.source).toEqual({ file: expect.stringMatching(/test[\\/]line-format\.test\.ts$/), line: expect.any(Number), function: 'chargeCard' })
    expect(error!.source).toMatchObject({ file: expect.stringMatching(/line-format\.test\.ts$/) })
    expect(info).not.toHaveProperty('source')
  })

  test('source line is the line of the log call', () => {
    const { logger, lines } = captureLogger()
    const here = Number(new Error().stack!.split('\n')[1]!.match(/:(\d+):\d+\)?$/)![1]); logger.warn('same line')
    expect(lines()[0]!.source).toMatchObject({ line: here })
  })

  test('the request completed fast path writes exactly what the generic path writes, odd values included', () => {
    const { logger, raw } = captureLogger()
    type Row = ConstructorParameters<typeof RequestCompletedFields>
    const rows: Row[] = [
      ['GET', '/items/1', '/items/:id', 200, 1.5, '127.0.0.1', 'curl/8'],
      ['POST', '/a"b\\c', undefined, 404, 0, '::1', undefined],
      ['GET', '/mail/ann@example.com', '/mail/:to', 201, Number.NaN, '10.0.0.1', 'Mozilla "x" \u2028 \ud800'],
      ['GET', '/reset', null as unknown as string, 500, Number.POSITIVE_INFINITY, '10.0.0.1', 'Bearer abcdefgh123'],
      // request.ip is undefined once the client's socket is gone: regression, the fast path threw
      ['GET', '/gone', '/gone', 200, 3, undefined, 'ua'],
    ]
    const body = (line: string) => line.replace(/^\{"timestamp":"[^"]*"/, '')
    for (const row of rows) {
      const [method, path, route, status_code, duration_ms, ip, user_agent] = row
      logger.info(new RequestCompletedFields(...row), 'request completed')
      logger.info({ method, path, route, status_code, duration_ms, ip, user_agent }, 'request completed')
      const [fast, generic] = raw().trim().split('\n').slice(-2) as [string, string]
      expect(body(fast)).toBe(body(generic))
    }
    expect(raw()).not.toContain('ann@example.com')
    expect(raw()).not.toContain('abcdefgh123')
  })

  test("the external call fast path (@opskit/outbound's line) writes exactly what the generic path writes, odd values included", () => {
    const { logger, raw } = captureLogger()
    type Row = ConstructorParameters<typeof ExternalCallFields>
    const rows: Row[] = [
      ['items', 'GET', 'http://127.0.0.1:4567/items/42?page=1', 200, 1.5, 'req-1', 'user-7'],
      ['stripe', 'POST', 'https://api.stripe.com/v1/charges?key=[REDACTED]', 402, 0, undefined, undefined],
      ['mail', 'GET', 'https://mail.example/to/ann@example.com', null, Number.NaN, 'req-2', 'bob@example.com'],
      ['a"b\\c', 'OTHER', 'http://x/\u2028\ud800', 301, Number.POSITIVE_INFINITY, 'req-3', undefined],
      ['long', 'GET', 'http://x/' + 'a'.repeat(3000), 200, 2, undefined, 'u'],
      // A URL seen before (the fast path keeps its service, method and url JSON), again, under
      // another service, with another method: each line its own.
      ['items', 'GET', 'http://127.0.0.1:4567/items/42?page=1', 200, 3, 'req-4', undefined],
      ['catalog', 'GET', 'http://127.0.0.1:4567/items/42?page=1', 200, 3, 'req-5', undefined],
      ['catalog', 'DELETE', 'http://127.0.0.1:4567/items/42?page=1', 204, 3, 'req-6', undefined],
      ['mail', 'GET', 'https://mail.example/to/ann@example.com', 200, 1, undefined, undefined],
    ]
    const body = (line: string) => line.replace(/^\{"timestamp":"[^"]*"/, '')
    for (const row of rows) {
      const [service, method, url, status_code, duration_ms, request_id, user_id] = row
      logger.info(new ExternalCallFields(...row), 'external call')
      logger.info({ service, method, url, status_code, duration_ms, request_id, user_id }, 'external call')
      const [fast, generic] = raw().trim().split('\n').slice(-2) as [string, string]
      expect(body(fast)).toBe(body(generic))
    }
    expect(raw()).not.toContain('ann@example.com')
    expect(raw()).not.toContain('bob@example.com')
  })

  test('a redact rule on a field of the external call line still applies (the generic path is taken)', () => {
    const { logger, lines } = captureLogger({ redact: ['url', 'service'] })
    logger.info(new ExternalCallFields('items', 'GET', 'http://127.0.0.1/items/1', 200, 1, 'req-1', undefined), 'external call')
    expect(lines()[0]).toMatchObject({ service: '[REDACTED]', url: '[REDACTED]', method: 'GET', status_code: 200, request_id: 'req-1' })
  })
})

describe('duration_ms', () => {
  test('written exactly as JSON writes the number, on the request and external call lines alike', () => {
    const durations = [0, 0.001, 0.01, 0.5, 0.25, 1, 12, 1.234, 999.999, 1000.05, 123456.789, 999_999_999.999, 1e9, 2e21, -3.5, 1.0005, 0.1 + 0.2]
    for (let i = 0; i < 20_000; i++) durations.push(Math.round(Math.random() * 10 ** (i % 9) * 1000) / 1000)
    for (const ms of durations) expect(durationJson(ms)).toBe(JSON.stringify(ms))
    expect([NaN, Infinity, -Infinity].map(durationJson)).toEqual(['null', 'null', 'null'])

    const { logger, lines } = captureLogger()
    logger.info(new RequestCompletedFields('GET', '/a', '/a', 200, 12.5, '127.0.0.1', 'ua'), 'request completed')
    logger.info(new ExternalCallFields('items', 'GET', 'http://items/1', 200, 0.007, undefined, undefined), 'external call')
    logger.info(new ExternalCallFields('items', 'GET', 'http://items/2', 200, Number.NaN, undefined, undefined), 'external call')
    expect(lines().map((line) => line.duration_ms)).toEqual([12.5, 0.007, null])
  })
})
