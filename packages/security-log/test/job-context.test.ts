import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { runJob } from '@opskit/core'
import { STORE, buildApp, dropTables, uniqueName } from './helpers.js'

const tables: string[] = []

describe(`security events recorded inside runJob (${STORE})`, () => {
  let app: FastifyInstance | undefined
  afterEach(async () => {
    await app?.close()
    app = undefined
  })
  afterAll(() => dropTables(tables))

  it('fastify.securityLog.record() inside a job carries the job id as request_id', async () => {
    const table = uniqueName('security_logs_job')
    tables.push(table)
    app = await buildApp({ table, autoCapture: false })
    const instance = app
    const row = await runJob('token-cleanup', async () => {
      await new Promise((resolve) => setImmediate(resolve))
      return instance.securityLog.record({ action: 'suspicious_activity', details: { expired_sessions: 3 } })
    }, { id: 'cleanup-1' })
    expect(row).toMatchObject({ action: 'suspicious_activity', request_id: 'cleanup-1', user_id: null, ip_address: null })
    await app.securityLog.flush()
    const page = await app.securityLog.query({ action: 'suspicious_activity' })
    expect(page.items.map((item) => item.request_id)).toEqual(['cleanup-1'])
  })
})
