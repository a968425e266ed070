import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { runJob } from '@opskit/core'
import { buildApp, target, useTestDb } from './helpers.js'

describe(`audit events recorded inside runJob (${target})`, () => {
  const { db, newTable } = useTestDb()
  let app: FastifyInstance | undefined
  afterEach(async () => {
    await app?.close()
    app = undefined
  })

  it('fastify.audit.record() inside a job stores the job id as request_id, no user and no ip; inside a request-started job, the job\'s id', async () => {
    const table = newTable()
    app = await buildApp({ connection: db.connection, table }, {
      routes: (a) => {
        a.post('/posts/:id/publish', async (request) => {
          const jobId = await runJob('publish', async () => {
            await a.audit.record({ action: 'publish', entityType: 'post', entityId: (request.params as { id: string }).id })
            return 'publish-job-1'
          }, { id: 'publish-job-1' })
          return { jobId }
        })
      },
    })
    const instance = app
    await runJob('sync-posts', async () => {
      await new Promise((resolve) => setImmediate(resolve))
      await instance.audit.record({ action: 'update', entityType: 'post', entityId: '42', before: { title: 'a' }, after: { title: 'b' } })
    }, { id: 'sync-7' })
    await app.inject({ method: 'POST', url: '/posts/9/publish', headers: { 'x-user': 'editor-1', 'x-request-id': 'req-publish' } })
    await app.audit.flush()
    const rows = await db.query(`SELECT action, entity_id, request_id, user_id, ip_address FROM ${table} ORDER BY entity_id`)
    expect(rows).toEqual([
      { action: 'update', entity_id: '42', request_id: 'sync-7', user_id: null, ip_address: null },
      { action: 'publish', entity_id: '9', request_id: 'publish-job-1', user_id: null, ip_address: null },
    ])
  })

  it('a job started inside a traced request records rows with the request\'s trace_id (core gives the job that trace)', async () => {
    const table = newTable()
    app = await buildApp({ connection: db.connection, table }, {
      routes: (a) => {
        a.post('/export', async () => {
          await runJob('export', () => a.audit.record({ action: 'export', entityType: 'report', entityId: 'r1' }), { id: 'export-job-1' })
          return 'ok'
        })
      },
    })
    await app.inject({ method: 'POST', url: '/export', headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } })
    await app.audit.flush()
    expect(await db.query(`SELECT request_id, trace_id FROM ${table}`)).toEqual([{ request_id: 'export-job-1', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }])
  })
})
