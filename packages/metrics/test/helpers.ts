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

/** Sample lines (no comments) of a scrape whose metric name starts with `name`. */
export function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(name) && !line.startsWith('#'))
}

/** The value of the one sample line that starts with `series` (name and labels as printed). */
export function valueOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}
