// `node bench/metrics-scrape.js [--scrapes 200]` (after `pnpm build`): the time to answer GET /metrics
// with 50 routes in use. Starts @opskit/core + @opskit/metrics (defaults: process metrics on) in this
// process, sends traffic to all 50 routes (and a few 404s and 500s, so every status has series),
// then (after 100 warm-up scrapes) times 200 scrapes over real HTTP, one after another, and prints the median and p99 (ms).
// Goal: median < 5 ms.
import { Agent, request } from 'node:http'
import Fastify from 'fastify'
import { opskitCore } from '../packages/core/dist/index.js'
import { opskitMetrics } from '../packages/metrics/dist/index.js'
import { registerMetricsRoutes, ROUTE_COUNT } from './servers/metrics-routes.js'

const args = process.argv.slice(2)
const scrapes = Number(args[args.indexOf('--scrapes') + 1] || 200) || 200

const app = Fastify({ logger: false })
await app.register(opskitCore)
await app.register(opskitMetrics)
registerMetricsRoutes(app)
app.get('/fail', async () => {
  throw new Error('boom')
})
await app.listen({ port: 0, host: '127.0.0.1' })
const { port } = app.server.address()
const agent = new Agent({ keepAlive: true, maxSockets: 1 })

function get(path) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({ status: res.statusCode, bytes: body.length, body })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

for (let round = 0; round < 20; round++) {
  for (let i = 0; i < ROUTE_COUNT; i++) await get(`/r${i}`)
  await get('/hello')
  await get(`/missing/${round}`)
  await get('/fail')
}

// Warm-up: Prometheus scrapes a process for its whole life, so time the steady state, after the JIT
// has compiled the scrape path.
for (let i = 0; i < 100; i++) await get('/metrics')

const times = []
let size = 0
for (let i = 0; i < scrapes; i++) {
  const started = process.hrtime.bigint()
  const { status, bytes } = await get('/metrics')
  times.push(Number(process.hrtime.bigint() - started) / 1e6)
  if (status !== 200) throw new Error(`GET /metrics answered ${status}`)
  size = bytes
}
times.sort((a, b) => a - b)
const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))]
const text = (await get('/metrics')).body.toString()
const series = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length
const median = at(0.5)
console.log(`GET /metrics with ${ROUTE_COUNT} routes in use: ${series} samples, ${(size / 1024).toFixed(1)} KiB`)
console.log(`${scrapes} scrapes: median ${median.toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms, max ${times[times.length - 1].toFixed(2)} ms`)
console.log(`goal median < 5 ms: ${median < 5 ? 'PASS' : 'FAIL'}`)
agent.destroy()
await app.close()
process.exitCode = median < 5 ? 0 : 1
