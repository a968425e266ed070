import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { captureLogger } from './capture.js'

const { REDIS_URL, DATABASE_URL } = process.env
if (REDIS_URL === undefined) console.warn('[@opskit/logging] skipped "an ioredis ReplyError": set REDIS_URL to run it')
if (DATABASE_URL === undefined) console.warn('[@opskit/logging] skipped "a pg DatabaseError": set DATABASE_URL to run it')

function errOf(thrown: unknown): Record<string, any> {
  const { logger, lines } = captureLogger()
  logger.error({ err: thrown }, 'failed')
  return lines()[0]!.err as Record<string, any>
}

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

// Regression: Redis errors were written as "err":{"type":"Object",…,"stack":""}, without their type or code.
describe('the err field carries type, message and code', () => {
  test.skipIf(REDIS_URL === undefined)('an ioredis ReplyError, without the command arguments (AUTH would carry a password)', async () => {
    const redis = new Redis(REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 0 })
    try {
      await redis.connect()
      const thrown = await redis.call('NO_SUCH_COMMAND', 'secret-arg').catch((err: unknown) => err)
      const err = errOf(thrown)
      expect(err).toMatchObject({ type: 'ReplyError', message: expect.stringContaining('unknown command') })
      expect(err.stack).toMatch(/ReplyError/)
      // The command's name stays; its arguments are left out.
      expect(err.command).toEqual({ name: 'NO_SUCH_COMMAND' })
    } finally {
      redis.disconnect()
    }
  })

  test('a connection refused by Redis (a Node system error): code, syscall, port', async () => {
    const port = await closedPort()
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
    // What a Redis client's 'error' listener (the suite's, the limiter's) gets during an outage.
    const emitted = new Promise<unknown>((resolve) => redis.once('error', resolve))
    redis.connect().catch(() => undefined)
    const thrown = await emitted
    redis.disconnect()
    const err = errOf(thrown)
    expect(err).toMatchObject({ type: 'Error', message: expect.stringContaining('ECONNREFUSED'), code: 'ECONNREFUSED', syscall: 'connect', port })
    expect(err.stack).toEqual(expect.any(String))
  })

  test.skipIf(DATABASE_URL === undefined)('a pg DatabaseError: its SQLSTATE code and details', async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL })
    await client.connect()
    try {
      const thrown = await client.query('SELECT * FROM no_such_table_for_logging_test').catch((err: unknown) => err)
      expect(errOf(thrown)).toMatchObject({ type: 'DatabaseError', message: expect.stringContaining('no_such_table_for_logging_test'), code: '42P01', severity: 'ERROR' })
    } finally {
      await client.end()
    }
  })

  test('a plain object thrown: its fields, no empty stack', () => {
    const err = errOf({ message: 'quota exceeded', code: 'E_QUOTA', limit: 10 })
    expect(err).toEqual({ type: 'Object', message: 'quota exceeded', code: 'E_QUOTA', limit: 10 })
  })

  test('a string thrown, and an Error with a cause and a code', () => {
    expect(errOf('boom')).toEqual({ type: 'string', message: 'boom' })
    const cause = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
    class PaymentError extends Error {}
    const err = errOf(Object.assign(new PaymentError('charge failed', { cause }), { code: 'E_PAYMENT' }))
    expect(err).toMatchObject({ type: 'PaymentError', message: 'charge failed', code: 'E_PAYMENT', cause: { type: 'Error', message: 'socket hang up', code: 'ECONNRESET' } })
  })

  test('an AggregateError lists its errors', () => {
    const err = errOf(new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:6379'), { code: 'ECONNREFUSED' })], 'all attempts failed'))
    expect(err).toMatchObject({ type: 'AggregateError', message: 'all attempts failed', errors: [{ type: 'Error', code: 'ECONNREFUSED' }] })
  })

  test('secrets inside an error are still redacted', () => {
    const err = errOf(Object.assign(new Error('login failed for ann@example.com'), { password: 'hunter2' }))
    expect(err.password).toBe('[REDACTED]')
    expect(err.message).not.toContain('ann@example.com')
  })
})
