// `node bench/outbound-observer.js [calls=200000] [rounds=5]` (after `pnpm build`): the CPU cost of
// observing one call, in one process, without the network: undici's `create`, `headers` and
// `trailers` channels are published with a request object of undici's shape, inside a request's
// context, as undici publishes them for a fetch(). `@opskit/outbound` (with core, logging to a file
// and metrics) starts the call, adds the propagated `x-request-id`, counts it and writes its
// `external call` line; `--mode noline` (logger at warn) and `--mode nometrics` take the line or
// the metrics out, `--mode none` runs no observer (what publishing to no subscriber costs). The
// same work a real call does, minus the socket: a tight loop, so each piece costs less than in a
// server under load, where caches are cold (bench/servers/outbound-cpu-cost.js measures that).
// The request object has undici's header layout of the Node line it runs on (an array from undici 7).
import dc from 'node:diagnostics_channel'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import { opskitCore, runWithRequestContext } from '../packages/core/dist/index.js'
import { opskitMetrics } from '../packages/metrics/dist/index.js'
// OPSKIT_DIST=dist-base: the build of bench/build-base.js <revision> instead (a change measured against it).
const { createLogger, fastifyLoggingOptions, opskitLogging } = await import(`../packages/logging/${process.env.OPSKIT_DIST ?? 'dist'}/index.js`)
const { opskitOutbound } = await import(`../packages/outbound/${process.env.OPSKIT_DIST ?? 'dist'}/index.js`)

const { values, positionals } = parseArgs({ allowPositionals: true, options: { mode: { type: 'string', default: 'full' } } })
const mode = values.mode
const CALLS = Number(positionals[0] ?? 200_000)
const ROUNDS = Number(positionals[1] ?? 5)
const dir = await mkdtemp(join(tmpdir(), 'opskit-bench-outbound-observer-'))
const app = Fastify(fastifyLoggingOptions(createLogger({ level: mode === 'noline' ? 'warn' : 'info', format: 'json', stdout: false, file: join(dir, 'app.log') })))
await app.register(opskitCore)
await app.register(opskitLogging)
if (mode !== 'nometrics') await app.register(opskitMetrics, { defaultMetrics: false })
if (mode !== 'none') await app.register(opskitOutbound, { services: { items: '127.0.0.1' }, propagate: ['127.0.0.1'] })
let context
app.get('/context', async (request) => {
  context = request.opskitContext
  return 'ok'
})
await app.ready()
await app.inject('/context')
// The log file opens asynchronously; a synchronous loop started before would keep every line in memory.
await new Promise((resolve) => setTimeout(resolve, 300))

const create = dc.channel('undici:request:create')
const headers = dc.channel('undici:request:headers')
const trailers = dc.channel('undici:request:trailers')
// undici 7 (Node 24 and 26) keeps a request's headers as a flat array, undici 6 (Node 20, 22) as one string.
const FLAT_HEADERS = Number(process.versions.undici?.split('.')[0] ?? 0) >= 7
const HEADER_PAIRS = ['host', '127.0.0.1:4567', 'connection', 'keep-alive', 'accept', '*/*', 'accept-language', '*', 'sec-fetch-mode', 'cors', 'user-agent', 'node', 'accept-encoding', 'gzip, deflate']
const HEADERS = HEADER_PAIRS.reduce((text, part, i) => text + (i % 2 === 0 ? `${part}: ` : `${part}\r\n`), '')
class UndiciLikeRequest {
  constructor() {
    this.origin = 'http://127.0.0.1:4567'
    this.path = '/items/42?page=1'
    this.method = 'GET'
    this.headers = FLAT_HEADERS ? HEADER_PAIRS.slice() : HEADERS
  }
  addHeader(name, value) {
    if (FLAT_HEADERS) this.headers.push(name, value)
    else this.headers += `${name}: ${value}\r\n`
    return this
  }
}
const response = { statusCode: 200, headers: [], statusText: 'OK' }
function call() {
  const request = new UndiciLikeRequest()
  create.publish({ request })
  headers.publish({ request, response })
  trailers.publish({ request, trailers: [] })
}
function round() {
  const start = process.cpuUsage()
  for (let i = 0; i < CALLS; i++) runWithRequestContext(context, call)
  const used = process.cpuUsage(start)
  return (used.user + used.system) / CALLS
}
round()
const results = Array.from({ length: ROUNDS }, round).sort((a, b) => a - b)
console.log(`${mode}: ${results[results.length >> 1].toFixed(2)} CPU µs per call (median of ${ROUNDS} rounds × ${CALLS} calls: ${results.map((r) => r.toFixed(2)).join(' ')}), Node ${process.versions.node}`)
await app.close()
