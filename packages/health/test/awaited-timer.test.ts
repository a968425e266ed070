import { afterEach, describe, expect, it, vi } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from './helpers.js'

let app: FastifyInstance | undefined
afterEach(async () => {
  vi.restoreAllMocks()
  await app?.close()
  app = undefined
})

/** Records the timers created with `delayMs` while it is on. */
function watchTimers(delayMs: number): NodeJS.Timeout[] {
  const created: NodeJS.Timeout[] = []
  const real = globalThis.setTimeout
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
    const timer = real(fn, ms)
    if (ms === delayMs) created.push(timer)
    return timer
  }) as typeof setTimeout)
  return created
}

describe('a check that never settles', () => {
  // Regression: the per-check timeout timer was unref()'d, so in a script where nothing else held
  // the event loop open (a CLI calling fastify.health.run(), a test calling inject()), the process
  // exited with the probe unanswered instead of reporting "error":"timeout". The test worker's IPC
  // channel holds this loop open, so the cause is checked: the timer the probe waits on is ref'd.
  it('keeps the event loop alive until fastify.health.run() and inject() answer "timeout"', async () => {
    app = await buildApp({ checks: { hung: { check: () => new Promise(() => undefined), timeoutMs: 150 } }, cacheMs: 0 })
    await app.ready()
    const timers = watchTimers(150)

    const run = app.health.run()
    await new Promise((resolve) => setImmediate(resolve))
    expect(timers).toHaveLength(1)
    expect(timers.every((timer) => timer.hasRef())).toBe(true)
    expect(await run).toMatchObject({ status: 'error', services: { hung: { status: 'error', error: 'timeout' } } })

    const probe = app.inject('/health/ready')
    await new Promise((resolve) => setImmediate(resolve))
    expect(timers).toHaveLength(2)
    expect(timers[1]?.hasRef()).toBe(true)
    const res = await probe
    expect(res.statusCode).toBe(503)
    expect(res.json().services.hung).toMatchObject({ status: 'error', error: 'timeout' })
  })
})
