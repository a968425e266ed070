/* global fetch */
// Shared part of the `outbound` group's servers: Fastify + @opskit/core + @opskit/logging (a file)
// + @opskit/metrics, and GET /hello making one fetch() to a local upstream in its own process.
// `extra(app)` adds what the variant measures before the route is declared.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { opskitCore } from '../../packages/core/dist/index.js'
import { opskitMetrics } from '../../packages/metrics/dist/index.js'
import { logFile, serve } from '../lib/serve.js'
// OPSKIT_DIST=dist-base: the build of bench/build-base.js <revision> instead (a change measured against it).
const { createLogger, fastifyLoggingOptions, opskitLogging } = await import(`../../packages/logging/${process.env.OPSKIT_DIST ?? 'dist'}/index.js`)

// The upstream takes none of the server's node flags (--cpu-prof, --trace-*): it is not what is measured.
async function startUpstream() {
  const child = fork(fileURLToPath(new URL('./outbound-upstream.js', import.meta.url)), { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], execArgv: [] })
  const [chunk] = await once(child.stdout, 'data')
  const port = Number(/port (\d+)/.exec(String(chunk))?.[1])
  for (const signal of ['SIGINT', 'SIGTERM', 'exit']) process.once(signal, () => child.kill())
  return `http://127.0.0.1:${port}`
}

export async function outboundServer(name, extra = async () => {}) {
  const upstream = await startUpstream()
  const logger = createLogger({ name: 'bench', level: 'info', format: 'json', stdout: false, file: await logFile(name) })
  const app = Fastify(fastifyLoggingOptions(logger))
  await app.register(opskitCore)
  await app.register(opskitLogging)
  await app.register(opskitMetrics, { defaultMetrics: false })
  await extra(app)
  app.get('/hello', async () => {
    const res = await fetch(`${upstream}/items/42?page=1`)
    return res.json()
  })
  await serve(app)
}
