/* global fetch */
// `node bench/servers/outbound-call-cost.js [calls=2000] [rounds=8]`: the client-side CPU of one fetch() to a local upstream
// (in its own process, not counted), in one process, blocks interleaved round by round: `none` (nothing subscribed), `noop`
// (no-op subscribers on undici's four channels: what publishing costs undici), `outbound` (@opskit/outbound with core,
// logging to a file and metrics), `outbound-no-line` (the same, logger at warn: no `external call` line),
// `outbound-no-metrics` (without @opskit/metrics). Each app is created before and closed after its block; every block
// warms up with 400 calls; the calls are outside any request. No server is measured, so this isolates the observation
// from the inbound request path; medians over the rounds.
import dc from 'node:diagnostics_channel'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { opskitCore } from '../../packages/core/dist/index.js'
import { createLogger, fastifyLoggingOptions, opskitLogging } from '../../packages/logging/dist/index.js'
import { opskitMetrics } from '../../packages/metrics/dist/index.js'
import { opskitOutbound } from '../../packages/outbound/dist/index.js'
const child = fork(fileURLToPath(new URL('./outbound-upstream.js', import.meta.url)), { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
const [chunk] = await once(child.stdout, 'data')
const url = `http://127.0.0.1:${/port (\d+)/.exec(String(chunk))[1]}/items/42?page=1`
const N = Number(process.argv[2] ?? 2000), ROUNDS = Number(process.argv[3] ?? 8)
async function calls(n) { const ps = []; for (let c = 0; c < 20; c++) ps.push((async () => { for (let i = 0; i < n / 20; i++) await (await fetch(url)).json() })()); await Promise.all(ps) }
const names = ['undici:request:create', 'undici:request:headers', 'undici:request:trailers', 'undici:request:error']
const noop = () => {}
async function block(mode) {
  let app
  if (mode === 'noop') for (const n of names) dc.subscribe(n, noop)
  if (mode.startsWith('outbound')) {
    app = Fastify(fastifyLoggingOptions(createLogger({ level: mode === 'outbound-no-line' ? 'warn' : 'info', format: 'json', stdout: false, file: join(tmpdir(), `opskit-bench-outbound-call-cost-${process.pid}.log`) })))
    await app.register(opskitCore); await app.register(opskitLogging); if (mode !== 'outbound-no-metrics') await app.register(opskitMetrics, { defaultMetrics: false })
    await app.register(opskitOutbound, { services: { items: '127.0.0.1' }, propagate: ['127.0.0.1'] })
    await app.ready()
  }
  // Every block warms up first, so the app's start-up work (its garbage, the log file opening) is not counted.
  await calls(400)
  const t = process.cpuUsage()
  await calls(N)
  const u = process.cpuUsage(t)
  if (mode === 'noop') for (const n of names) dc.unsubscribe(n, noop)
  await app?.close()
  return (u.user + u.system) / N
}
await calls(3000)
const res = { none: [], noop: [], outbound: [], 'outbound-no-line': [], 'outbound-no-metrics': [] }
for (let r = 0; r < ROUNDS; r++) for (const m of Object.keys(res)) res[m].push(await block(m))
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
for (const m of Object.keys(res)) console.log(m.padEnd(20), med(res[m]).toFixed(1), 'µs/call', ' (', res[m].map((x) => x.toFixed(0)).join(' '), ')')
const over = (m) => (med(res[m]) - med(res.none)).toFixed(1)
console.log(`\nNode ${process.versions.node}, ${N} calls × ${ROUNDS} rounds (20 concurrent), µs per call over none: outbound ${over('outbound')} (${(med(res.none) / med(res.outbound)).toFixed(3)}× calls per CPU second), without its line ${over('outbound-no-line')}, without metrics ${over('outbound-no-metrics')}, no-op subscribers ${over('noop')}`)
child.kill()
