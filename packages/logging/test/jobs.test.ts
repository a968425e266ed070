import { opskitCore, runJob } from '@opskit/core'
import { fastifyLoggingOptions, getLogger, opskitLogging } from '@opskit/logging'
import Fastify, { type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterEach, describe, expect, test } from 'vitest'
import { captureLogger, rawKeys, type LogLine } from './capture.js'

const apps: FastifyInstance[] = []
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()))
})

const syncLog = getLogger('wordpress-sync') // module level, as users write it

async function build(level: 'debug' | 'info' = 'debug') {
  const capture = captureLogger({ level, name: 'publisher' })
  const app = Fastify(fastifyLoggingOptions(capture.logger))
  apps.push(app)
  await app.register(opskitCore, { resolveActor: (request) => (request.headers['x-user-id'] ? { id: String(request.headers['x-user-id']) } : null) })
  await app.register(opskitLogging)
  return { app, capture }
}

const byMessage = (lines: LogLine[], message: string) => lines.filter((line) => line.message === message)

describe('jobs in the logs', () => {
  test('every line inside runJob carries job and job_id; job started (DEBUG) and job completed (INFO, duration_ms) are written', async () => {
    const { app, capture } = await build()
    await app.ready()
    const result = await runJob('sync-posts', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      syncLog.info({ posts: 3 }, 'posts fetched')
      getLogger('publish').warn('one post skipped')
      return 'synced'
    }, { id: 'sync-1' })
    expect(result).toBe('synced')
    const lines = capture.lines()
    expect(lines.map((line) => [line.level, line.logger, line.message])).toEqual([
      ['DEBUG', 'publisher', 'job started'],
      ['INFO', 'wordpress-sync', 'posts fetched'],
      ['WARN', 'publish', 'one post skipped'],
      ['INFO', 'publisher', 'job completed'],
    ])
    for (const line of lines) expect(line).toMatchObject({ request_id: 'sync-1', job: 'sync-posts', job_id: 'sync-1' })
    expect(lines[3]!.duration_ms).toBeGreaterThanOrEqual(4)
    expect(lines[1]!.posts).toBe(3)
    for (const raw of capture.raw().trim().split('\n')) expect(new Set(rawKeys(raw)).size).toBe(rawKeys(raw).length)
    expect(lines.some((line) => 'user_id' in line || 'parent_request_id' in line)).toBe(false)
  })

  test('a failing job writes job failed at ERROR with the error (redacted) and duration_ms, and rejects with it', async () => {
    const { app, capture } = await build('info')
    await app.ready()
    const error = new Error('WordPress answered 502 for token=abc123secret')
    await expect(runJob('sync-posts', async () => {
      throw error
    }, { id: 'sync-2' })).rejects.toBe(error)
    const [failed] = byMessage(capture.lines(), 'job failed')
    expect(failed).toMatchObject({ level: 'ERROR', job: 'sync-posts', job_id: 'sync-2', request_id: 'sync-2' })
    expect(failed!.duration_ms).toEqual(expect.any(Number))
    expect(failed!.err).toMatchObject({ type: 'Error', message: expect.stringContaining('WordPress answered 502') })
    expect(failed!.source).toMatchObject({ file: expect.stringMatching(/jobs\.test\.ts$/), line: expect.any(Number) }) // where it was thrown
    expect(capture.raw()).not.toContain('abc123secret')
    expect(byMessage(capture.lines(), 'job started')).toEqual([]) // DEBUG is off
    expect(byMessage(capture.lines(), 'job completed')).toEqual([])
  })

  test('a job started inside a request: own job_id, parent_request_id = the request id; the request lines are unchanged', async () => {
    const { app, capture } = await build('info')
    app.post('/publish', async (request) => {
      request.log.info('publishing')
      const jobId = await runJob('publish', async () => {
        getLogger('publish').info('publishing in the background')
        return (await import('@opskit/core')).getRequestContext()!.jobId
      })
      return { jobId }
    })
    const res = await app.inject({ method: 'POST', url: '/publish', headers: { 'x-request-id': 'req-9', 'x-user-id': 'u7' } })
    const { jobId } = res.json() as { jobId: string }
    const lines = capture.lines()
    expect(lines.find((line) => line.message === 'publishing')).toMatchObject({ request_id: 'req-9', user_id: 'u7' })
    expect(lines.find((line) => line.message === 'publishing')).not.toHaveProperty('job')
    const inJob = lines.filter((line) => line.job === 'publish')
    expect(inJob.map((line) => line.message)).toEqual(['publishing in the background', 'job completed'])
    for (const line of inJob) {
      expect(line).toMatchObject({ request_id: jobId, job_id: jobId, parent_request_id: 'req-9' })
      expect(line).not.toHaveProperty('user_id') // a job runs with actor null
    }
    expect(jobId).not.toBe('req-9')
    expect(lines.find((line) => line.message === 'request completed')).toMatchObject({ request_id: 'req-9', user_id: 'u7' })
  })

  test('nested jobs: the inner lines carry their own job_id and parent_job_id; the outer lines after it are the outer job\'s', async () => {
    const { app, capture } = await build('info')
    await app.ready()
    await runJob('import', async () => {
      await runJob('import-page', async () => {
        syncLog.info('page imported')
      }, { id: 'page-1' })
      syncLog.info('all pages imported')
    }, { id: 'import-1' })
    const lines = capture.lines()
    expect(lines.map((line) => [line.message, line.job, line.job_id, line.parent_job_id])).toEqual([
      ['page imported', 'import-page', 'page-1', 'import-1'],
      ['job completed', 'import-page', 'page-1', 'import-1'],
      ['all pages imported', 'import', 'import-1', undefined],
      ['job completed', 'import', 'import-1', undefined],
    ])
  })

  test('concurrent jobs: each line names its own job', async () => {
    const { app, capture } = await build('info')
    await app.ready()
    await Promise.all(['a', 'b', 'c'].map((name, i) =>
      runJob(`job-${name}`, async () => {
        for (let step = 0; step < 4; step++) {
          await new Promise((resolve) => setTimeout(resolve, (i + step) % 3))
          syncLog.info({ step, expected: `job-${name}` }, 'step')
        }
      }, { id: `id-${name}` })))
    const steps = byMessage(capture.lines(), 'step')
    expect(steps).toHaveLength(12)
    for (const line of steps) expect(line.job).toBe(line.expected)
    for (const line of steps) expect(line.job_id).toBe(`id-${String(line.expected).slice(4)}`)
  })

  test('two instances: a job run in a request of one is written by that one only', async () => {
    const one = await build('info')
    const two = await build('info')
    one.app.get('/work', () => runJob('nightly', () => 'ok'))
    await two.app.ready()
    await one.app.inject('/work')
    expect(byMessage(one.capture.lines(), 'job completed')).toHaveLength(1)
    expect(byMessage(two.capture.lines(), 'job completed')).toEqual([])
  })

  test('with a logger that is not opskit\'s, the job lines name job and job_id themselves', async () => {
    const chunks: string[] = []
    const app = Fastify({ loggerInstance: pino({ level: 'info' }, { write: (line: string) => void chunks.push(line) }) })
    apps.push(app as unknown as FastifyInstance)
    await app.register(opskitCore)
    await app.register(opskitLogging)
    await app.ready()
    await runJob('plain', () => undefined, { id: 'p-1', app })
    const lines = chunks.join('').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines.find((line) => line.msg === 'job completed')).toMatchObject({ job: 'plain', job_id: 'p-1', duration_ms: expect.any(Number) })
  })

  test('after close, the instance writes no job lines', async () => {
    const { app, capture } = await build('info')
    await app.ready()
    await app.close()
    apps.splice(apps.indexOf(app), 1)
    await runJob('late', () => undefined)
    expect(byMessage(capture.lines(), 'job completed')).toEqual([])
  })
})
