import { spawn, spawnSync } from 'node:child_process'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { opskitCore } from '@opskit/core'
import { opskitMetrics } from '@opskit/metrics'
import type { OpskitMetricsOptions } from '@opskit/metrics'

export const hasPromtool = spawnSync('promtool', ['--version']).status === 0

/** Runs `promtool check metrics` on a scrape; resolves with its exit code and output. */
export function promtoolCheckMetrics(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'])
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
    child.stdin.end(text)
  })
}

export async function buildApp(options: OpskitMetricsOptions = {}, serverOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(serverOptions)
  await app.register(opskitCore)
  await app.register(opskitMetrics, options)
  return app
}

export { samples, valueOf } from '../../../test-utils/server-scrape.js'
