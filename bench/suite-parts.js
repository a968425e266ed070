/* global setImmediate */
// `node bench/suite-parts.js [--rounds 300] [--batch 200] [--warmup 4000]` (after `pnpm build`):
// where the suite's CPU time per request goes, part by part, in one process. Bare Fastify, the peer
// stack, core alone, the suite built up from core one part at a time (the same rows as the CPU
// table of lib/suite-cpu.js, SUITE_PARTS order) and the suite with a `traceparent` on each request
// are all built in this process, each logging to its own file; each round sends every app `batch`
// requests with `inject()` (GET /hello and GET /items/42 alternated), apps in a new order each round,
// and reads the process's CPU time around each batch (and the young-generation collection of its
// garbage). Interleaving batches of a few milliseconds
// lets this VM's drift (±8 µs between server runs of the same server) hit every app alike, so the
// steps are told apart to a fraction of a µs; the paired interval of each step says how far.
// `inject()` skips the socket and the HTTP parser (the same work in every app, and the kernel's
// share of a real request), so the figures are the JavaScript side of a request: compare steps and
// ratios, not absolute µs, with the server table.
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import v8 from 'node:v8'
import vm from 'node:vm'
import Fastify from 'fastify'
import fastifyMetrics from 'fastify-metrics'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import cors from '@fastify/cors'
import { loadConfig, opskit, serverOptions } from '../packages/suite/dist/index.js'
import { shuffled } from './lib/server-process.js'
import { BENCH_TRACEPARENT, pairedInterval, SUITE_PARTS } from './lib/suite-cpu.js'
import { BENCH_CORS_ORIGINS, registerSuiteRoutes } from './servers/suite-routes.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '300' }, batch: { type: 'string', default: '200' }, warmup: { type: 'string', default: '4000' } } })
const ROUNDS = Number(values.rounds)
const BATCH = Number(values.batch)
const WARMUP = Number(values.warmup)
const logDir = await mkdtemp(join(tmpdir(), 'opskit-bench-suite-parts-'))
const fmt = (n) => n.toLocaleString('en-US', { maximumFractionDigits: 2 })

async function suiteApp(name, off) {
  const config = loadConfig({
    APP_NAME: 'bench',
    LOG_LEVEL: 'info',
    LOG_FILE: join(logDir, `${name.replace(/[^\w]+/g, '-')}.log`),
    CORS_ORIGINS: BENCH_CORS_ORIGINS.join(','),
    RATE_LIMIT_REQUESTS: '1000000000',
    RATE_LIMIT_PERIOD: '60',
  })
  const app = Fastify(serverOptions(config, { stdout: false }))
  await app.register(opskit, { config, ...Object.fromEntries(off.map((part) => [part, false])) })
  registerSuiteRoutes(app)
  return app
}

async function peerApp() {
  const app = Fastify({ logger: { level: 'info', file: join(logDir, 'peer-stack.log') } })
  await app.register(fastifyMetrics, { endpoint: '/metrics' })
  await app.register(underPressure, { maxEventLoopDelay: 1000, maxHeapUsedBytes: 1_000_000_000, maxRssBytes: 2_000_000_000, exposeStatusRoute: '/health' })
  await app.register(cors, { origin: BENCH_CORS_ORIGINS, exposedHeaders: ['x-request-id', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'] })
  await app.register(rateLimit, { max: 1_000_000_000, timeWindow: 60_000 })
  registerSuiteRoutes(app)
  return app
}

const rows = [
  { name: 'bare', app: () => { const app = Fastify({ logger: false }); registerSuiteRoutes(app); return app } },
  { name: 'peer-stack', app: peerApp },
  { name: 'core only', app: () => suiteApp('core only', SUITE_PARTS) },
  ...SUITE_PARTS.slice(0, -1).map((part, i) => ({ name: `core + ${SUITE_PARTS.slice(0, i + 1).join(' + ')}`, added: part, app: () => suiteApp(part, SUITE_PARTS.slice(i + 1)) })),
  { name: 'opskit-suite', added: SUITE_PARTS.at(-1), app: () => suiteApp('suite', []) },
  { name: 'suite, traced requests', headers: { traceparent: BENCH_TRACEPARENT }, app: () => suiteApp('suite-traced', []) },
]
for (const row of rows) {
  row.instance = await row.app()
  await row.instance.ready()
  row.samples = []
}

const PATHS = ['/hello', '/items/42']
async function batch(row, n) {
  for (let i = 0; i < n; i++) {
    const res = await row.instance.inject({ method: 'GET', url: PATHS[i & 1], headers: row.headers })
    if (res.statusCode !== 200) throw new Error(`${row.name}: ${res.statusCode} ${res.body}`)
  }
}

// A young-generation collection before each batch (not counted) and one after it (counted): each
// batch pays for collecting its own garbage, not for the app that ran before it.
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')
// A loop of awaited inject() calls never leaves the microtask queue, so the setImmediate() work
// each request leaves (its streams' close) waits for the loop: run it inside the batch's window,
// or it is counted to the next app and every request stays in memory until then.
const drainImmediates = () => new Promise((resolve) => setImmediate(resolve))
for (const row of rows) {
  await batch(row, WARMUP)
  await drainImmediates()
}
for (let round = 0; round < ROUNDS; round++) {
  for (const row of shuffled(rows, round + 1)) {
    gc({ type: 'minor' })
    const start = process.cpuUsage()
    await batch(row, BATCH)
    await drainImmediates()
    gc({ type: 'minor' })
    const used = process.cpuUsage(start)
    row.samples.push((used.user + used.system) / BATCH)
  }
}
for (const row of rows) await row.instance.close()

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
const by = new Map(rows.map((r) => [r.name, r]))
for (const row of rows) row.us = median(row.samples)
const bare = by.get('bare')
const suite = by.get('opskit-suite')
console.log(`\nCPU µs per inject() request, one process (median of ${ROUNDS} rounds × ${BATCH} requests, apps in a new order each round, GET /hello and GET /items/42, Node ${process.versions.node})\n`)
console.log('| app | CPU µs/request | over bare | bare ÷ app |')
console.log('|---|---:|---:|---:|')
for (const row of rows) console.log(`| ${row.name} | ${fmt(row.us)} | ${fmt(row.us - bare.us)} | ${(bare.us / row.us).toFixed(2)}× |`)
console.log(`\n| part | µs/request | share of the suite's ${fmt(suite.us - bare.us)} over bare | 95 % interval, paired by round |`)
console.log('|---|---:|---:|---:|')
let previous = by.get('core only')
const share = (us) => ((us / (suite.us - bare.us)) * 100).toFixed(0) + ' %'
console.log(`| core (core only − bare) | ${fmt(previous.us - bare.us)} | ${share(previous.us - bare.us)} | ${pairedInterval(previous.samples, bare.samples)} |`)
for (const row of rows.filter((r) => r.added !== undefined)) {
  console.log(`| + ${row.added} | ${fmt(row.us - previous.us)} | ${share(row.us - previous.us)} | ${pairedInterval(row.samples, previous.samples)} |`)
  previous = row
}
console.log(`| **together: the suite − bare** | **${fmt(suite.us - bare.us)}** | 100 % | ${pairedInterval(suite.samples, bare.samples)} |`)
const traced = by.get('suite, traced requests')
console.log(`| a \`traceparent\` on each request (traced − suite) | ${fmt(traced.us - suite.us)} | | ${pairedInterval(traced.samples, suite.samples)} |`)
const peers = by.get('peer-stack')
console.log(`\nsuite ÷ bare ${(bare.us / suite.us).toFixed(2)}×, suite vs peer stack ${(peers.us / suite.us).toFixed(2)}× (CPU per request; the servers' req/s ratios also carry the socket and parser work every app shares)`)
process.exit(0)
