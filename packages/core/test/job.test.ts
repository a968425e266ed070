import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { getRequestContext, opskitCore, requestIdGenerator, runJob, type JobInfo, type JobResult } from '@opskit/core'

const apps: FastifyInstance[] = []
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()))
})

const tick = () => new Promise((resolve) => setTimeout(resolve, 1))
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

async function build(): Promise<FastifyInstance> {
  const app = Fastify({ genReqId: requestIdGenerator() })
  await app.register(opskitCore)
  apps.push(app)
  return app
}

/** What the observers of `app` see: one entry per start and per end. */
function watch(app: FastifyInstance): { events: string[]; ends: [JobInfo, JobResult][] } {
  const events: string[] = []
  const ends: [JobInfo, JobResult][] = []
  app.opskitJobs.add({
    jobStarted: (job) => void events.push(`start ${job.name} ${job.id}`),
    jobEnded(job, result) {
      events.push(`end ${job.name} ${job.id} ${result.status}`)
      ends.push([job, result])
    },
  })
  return { events, ends }
}

describe('runJob', () => {
  it('runs fn in a context of its own: requestId is the job id, job is the name, actor null; none outside', async () => {
    const seen = await runJob('sync-posts', async () => {
      await tick()
      return getRequestContext()
    }, { id: 'msg-42' })
    expect(seen).toMatchObject({ requestId: 'msg-42', job: 'sync-posts', jobId: 'msg-42', actor: null })
    expect(seen?.parentRequestId).toBeUndefined()
    expect(getRequestContext()).toBeUndefined()
  })

  it('gives a fresh UUID when no id is given', async () => {
    const a = await runJob('j', () => getRequestContext()?.jobId)
    const b = await runJob('j', () => getRequestContext()?.jobId)
    expect(a).toMatch(UUID)
    expect(b).toMatch(UUID)
    expect(a).not.toBe(b)
  })

  it('resolves with what fn resolves and rejects with the very error fn throws (sync or async)', async () => {
    expect(await runJob('ok', async () => ({ n: 1 }))).toEqual({ n: 1 })
    expect(await runJob('sync', () => 7)).toBe(7)
    const boom = new Error('boom')
    await expect(runJob('fails', async () => {
      await tick()
      throw boom
    })).rejects.toBe(boom)
    await expect(runJob('throws', () => {
      throw boom
    })).rejects.toBe(boom)
  })

  it('rejects a bad name or id with FST_OPSKIT_CORE_INVALID_JOB, before fn runs', async () => {
    let ran = false
    const fn = () => void (ran = true)
    for (const [name, opts] of [['', {}], ['x'.repeat(129), {}], ['a\nb', {}], ['ok', { id: 'has space' }], ['ok', { id: '' }]] as const) {
      await expect(runJob(name, fn, opts)).rejects.toMatchObject({ code: 'FST_OPSKIT_CORE_INVALID_JOB' })
    }
    expect(ran).toBe(false)
  })

  it('nested: the inner job has its own id and parentJobId; the outer context is back after it', async () => {
    const seen = await runJob('outer', async () => {
      const inner = await runJob('inner', async () => {
        await tick()
        return getRequestContext()
      }, { id: 'inner-1' })
      return { inner, after: getRequestContext() }
    }, { id: 'outer-1' })
    expect(seen.inner).toMatchObject({ requestId: 'inner-1', job: 'inner', jobId: 'inner-1', parentJobId: 'outer-1' })
    expect(seen.inner?.parentRequestId).toBeUndefined()
    expect(seen.after).toMatchObject({ requestId: 'outer-1', job: 'outer' })
  })

  it('concurrent jobs never see each other\'s context', async () => {
    const run = (i: number) =>
      runJob(`job-${i}`, async () => {
        const ids: string[] = []
        for (let step = 0; step < 5; step++) {
          await new Promise((resolve) => setTimeout(resolve, (i * 7 + step * 3) % 5))
          ids.push(`${getRequestContext()?.job}/${getRequestContext()?.requestId}`)
        }
        return ids
      }, { id: `id-${i}` })
    const results = await Promise.all([0, 1, 2, 3, 4, 5].map(run))
    results.forEach((ids, i) => expect(ids).toEqual(Array(5).fill(`job-${i}/id-${i}`)))
  })

  it('a job started inside a request gets its own id and parentRequestId; the request keeps its context', async () => {
    const app = await build()
    app.get('/publish', async () => {
      const job = await runJob('publish', async () => {
        await tick()
        const ctx = getRequestContext()
        // A job started from a job started in a request still names the request.
        const nested = await runJob('notify', () => getRequestContext())
        return { ctx, nested }
      })
      return { job, request: getRequestContext() }
    })
    const res = await app.inject({ url: '/publish', headers: { 'x-request-id': 'req-7' } })
    const body = res.json()
    expect(body.request).toMatchObject({ requestId: 'req-7' })
    expect(body.request.job).toBeUndefined()
    expect(body.job.ctx).toMatchObject({ job: 'publish', actor: null, parentRequestId: 'req-7' })
    expect(body.job.ctx.requestId).toMatch(UUID)
    expect(body.job.ctx.jobId).toBe(body.job.ctx.requestId)
    expect(body.job.nested).toMatchObject({ job: 'notify', parentRequestId: 'req-7', parentJobId: body.job.ctx.jobId })
  })

  it('a job started inside a traced request keeps its trace id under a fresh span id (nested jobs too); untraced requests give untraced jobs', async () => {
    const app = await build()
    app.get('/traced', async () => {
      const job = await runJob('export', async () => {
        const ctx = getRequestContext()
        const nested = await runJob('notify', () => getRequestContext())
        return { ctx, nested }
      })
      return { job, request: getRequestContext() }
    })
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const body = (await app.inject({ url: '/traced', headers: { traceparent } })).json()
    expect(body.request.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(body.job.ctx.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(body.job.nested.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    const spans = [body.request.spanId, body.job.ctx.spanId, body.job.nested.spanId]
    for (const span of spans) expect(span).toMatch(/^[0-9a-f]{16}$/)
    expect(new Set(spans).size).toBe(3)

    const plain = (await app.inject('/traced')).json()
    expect(plain.job.ctx.traceId).toBeUndefined()
    expect(plain.job.ctx.spanId).toBeUndefined()
    expect(await runJob('outside', () => getRequestContext()?.traceId)).toBeUndefined()
  })

  it('observers of the instance are told when a job starts and ends, inside the job context, with status and duration', async () => {
    const app = await build()
    const inside: unknown[] = []
    app.opskitJobs.add({ jobStarted: () => void inside.push(getRequestContext()?.jobId), jobEnded: () => void inside.push(getRequestContext()?.jobId) })
    const { events, ends } = watch(app)
    await runJob('a', async () => {
      await new Promise((resolve) => setTimeout(resolve, 30))
    }, { id: 'a1' })
    const err = new Error('nope')
    await runJob('b', () => Promise.reject(err), { id: 'b1' }).catch(() => undefined)
    expect(events).toEqual(['start a a1', 'end a a1 ok', 'start b b1', 'end b b1 failed'])
    expect(inside).toEqual(['a1', 'a1', 'b1', 'b1'])
    expect(ends[0]![1].durationMs).toBeGreaterThanOrEqual(25)
    expect(ends[1]![1]).toMatchObject({ status: 'failed', error: err })
    expect(ends[0]![1].error).toBeUndefined()
  })

  it('a throwing observer never fails the job', async () => {
    const app = await build()
    app.opskitJobs.add({ jobStarted: () => { throw new Error('observer') }, jobEnded: () => { throw new Error('observer') } })
    expect(await runJob('x', () => 'fine')).toBe('fine')
  })

  it('two instances: a job in a request of one is observed by that one only; { app } picks one; outside a request, every open instance', async () => {
    const a = await build()
    const b = await build()
    const seenA = watch(a)
    const seenB = watch(b)
    a.get('/work', () => runJob('from-a', () => 'done', { id: 'ja' }))
    await a.inject('/work')
    await runJob('picked', () => undefined, { id: 'jb', app: b })
    expect(seenA.events).toEqual(['start from-a ja', 'end from-a ja ok'])
    expect(seenB.events).toEqual(['start picked jb', 'end picked jb ok'])
    await runJob('cron', () => undefined, { id: 'jc' })
    expect(seenA.events.slice(2)).toEqual(['start cron jc', 'end cron jc ok'])
    expect(seenB.events.slice(2)).toEqual(['start cron jc', 'end cron jc ok'])
    await b.close()
    await runJob('late', () => undefined, { id: 'jd' })
    expect(seenA.events.slice(4)).toEqual(['start late jd', 'end late jd ok'])
    expect(seenB.events).toHaveLength(4) // closed: no longer told
  })

  it('the remove function returned by add() stops the observer', async () => {
    const app = await build()
    const events: string[] = []
    const remove = app.opskitJobs.add({ jobEnded: (job) => void events.push(job.id) })
    await runJob('x', () => undefined, { id: 'x1', app })
    remove()
    await runJob('x', () => undefined, { id: 'x2', app })
    expect(events).toEqual(['x1'])
  })
})
