// `node bench/servers/rate-limit-cpu-cost.js [rounds=5] [requests=30000]`: server CPU time per request
// of each `rate-limit` bench server, from /proc/<pid>/stat around a fixed number of requests, rounds
// interleaved (A B C … A B C). CPU time is far less disturbed than req/s by other load on the
// machine, so the limiter's own cost stands out: each server minus its base (bare or core).
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROUNDS = Number(process.argv[2] ?? 5)
const REQUESTS = Number(process.argv[3] ?? 30_000)
const TICK_US = 1e6 / 100 // USER_HZ is 100 on Linux

const SERVERS = [
  { name: 'bare', file: 'rate-limit-bare.js' },
  { name: 'fastify-rate-limit', file: 'rate-limit-fastify-rate-limit.js', base: 'bare' },
  { name: 'core', file: 'rate-limit-core.js' },
  { name: 'core+fastify-rate-limit', file: 'rate-limit-core-fastify-rate-limit.js', base: 'core' },
  { name: 'core+fastify-rate-limit-tiers', file: 'rate-limit-core-fastify-rate-limit-tiers.js', base: 'core' },
  { name: 'opskit-rate-limit-memory', file: 'rate-limit-opskit-memory.js', base: 'core' },
  { name: 'opskit-rate-limit-redis', file: 'rate-limit-opskit-redis.js', base: 'core' },
]

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function start(server) {
  const port = await freePort()
  const child = spawn(process.execPath, [join(HERE, server.file)], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] })
  let buffered = ''
  for await (const chunk of child.stdout) {
    buffered += chunk
    if (/^ready$/m.test(buffered)) break
  }
  child.stdout.resume()
  return { ...server, port, child, samples: [] }
}

function cpuTicks(pid) {
  // fields after the ")" of the command name: state is field 3, utime 14, stime 15
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

function load(running, amount) {
  return autocannon({ url: `http://127.0.0.1:${running.port}/hello`, connections: 50, amount })
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]

const running = []
try {
  for (const server of SERVERS) running.push(await start(server))
  for (const r of running) await load(r, 5000) // warm-up (JIT)
  for (let round = 1; round <= ROUNDS; round++) {
    for (const r of running) {
      const before = cpuTicks(r.child.pid)
      const result = await load(r, REQUESTS)
      const ticks = cpuTicks(r.child.pid) - before
      r.samples.push((ticks * TICK_US) / result.requests.sent)
    }
    process.stdout.write(`round ${round}/${ROUNDS} done\n`)
  }
  const byName = new Map(running.map((r) => [r.name, median(r.samples)]))
  console.log(`\nServer CPU µs per request (median of ${ROUNDS} rounds × ${REQUESTS} requests, 50 connections, Node ${process.versions.node})\n`)
  console.log('| server | CPU µs/request | limiter cost over its base |')
  console.log('|---|---:|---:|')
  for (const r of running) {
    const cost = r.base ? `${(byName.get(r.name) - byName.get(r.base)).toFixed(1)} µs (over ${r.base})` : '–'
    console.log(`| ${r.name} | ${byName.get(r.name).toFixed(1)} | ${cost} |`)
  }
  const ours = byName.get('opskit-rate-limit-memory') - byName.get('core')
  const theirs = byName.get('fastify-rate-limit') - byName.get('bare')
  const theirsOnCore = byName.get('core+fastify-rate-limit') - byName.get('core')
  console.log(`\nopskit memory limiter ${ours.toFixed(1)} µs vs @fastify/rate-limit defaults ${theirs.toFixed(1)} µs (alone) / ${theirsOnCore.toFixed(1)} µs (over core): ${ours < Math.min(theirs, theirsOnCore) ? 'PASS' : 'FAIL'}`)
} finally {
  for (const r of running) r.child.kill('SIGTERM')
}
