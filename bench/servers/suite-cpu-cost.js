// `node bench/servers/suite-cpu-cost.js [rounds=3] [requests=30000]`: server CPU time per request
// of the `suite` bench servers, and of the suite with one part turned off at a time, from
// /proc/<pid>/stat around a fixed number of requests (GET /hello and GET /items/42 alternated),
// rounds interleaved. CPU time is far less disturbed than req/s by other load on the machine, so
// it tells where the suite's time goes: "suite − (suite without X)" is the cost of X.
// With `taskset` (util-linux) the servers run on CPU 1 and the load generator on CPU 0, so a
// server never shares its core with the client (unpinned, migrations make the numbers wander).
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { cpuPerRequest, startServer, stopServer } from '../lib/server-process.js'

const ROUNDS = Number(process.argv[2] ?? 3)
const REQUESTS = Number(process.argv[3] ?? 30_000)
const PARTS = ['logging', 'metrics', 'cors', 'health', 'securityLog', 'rateLimit', 'audit']

const SERVERS = [
  { name: 'bare', file: 'suite-bare.js' },
  { name: 'peer-stack', file: 'peer-stack.js' },
  { name: 'opskit-suite', file: 'suite-opskit.js' },
  ...PARTS.map((part) => ({ name: `suite without ${part}`, file: 'suite-opskit.js', env: { SUITE_OFF: part }, part })),
  { name: 'core only', file: 'suite-opskit.js', env: { SUITE_OFF: PARTS.join(',') } },
]

function pin(pid, cpu) {
  try {
    execFileSync('taskset', ['-a', '-pc', String(cpu), String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const fmt = (n) => n.toLocaleString('en-US', { maximumFractionDigits: 1 })

const logDir = await mkdtemp(join(tmpdir(), 'opskit-bench-suite-cpu-'))
const running = []
try {
  // one at a time: embedded PGlite start-ups compete for the CPU otherwise
  for (const server of SERVERS) running.push(await startServer(server, logDir, 60))
  const pinned = pin(process.pid, 0) && running.every((r) => pin(r.child.pid, 1))
  console.log(pinned ? 'servers pinned to CPU 1, load generator to CPU 0' : 'taskset not available: processes not pinned')
  const cost = await cpuPerRequest(running, { paths: ['/hello', '/items/42'], rounds: ROUNDS, requests: REQUESTS })
  const bare = cost.get('bare')
  const suite = cost.get('opskit-suite')
  console.log(`\nServer CPU µs per request (median of ${ROUNDS} rounds × ${REQUESTS} requests, 50 connections, Node ${process.versions.node})\n`)
  console.log('| server | CPU µs/request | over bare | predicted req/s ratio to bare |')
  console.log('|---|---:|---:|---:|')
  for (const r of running) {
    const c = cost.get(r.name)
    console.log(`| ${r.name} | ${fmt(c)} | ${fmt(c - bare)} | ${(bare / c).toFixed(2)}× |`)
  }
  console.log('\n| part | its cost (suite − suite without it), µs/request |')
  console.log('|---|---:|')
  for (const r of running) if (r.part) console.log(`| ${r.part} | ${fmt(suite - cost.get(r.name))} |`)
  console.log(`| core (core only − bare) | ${fmt(cost.get('core only') - bare)} |`)
} finally {
  await Promise.all(running.map(stopServer))
}
