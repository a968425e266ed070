// `node bench/servers/console-cpu-cost.js [rounds=5] [requests=20000]`: server CPU time per request
// of the opskit suite with and without @opskit/console (page closed), from /proc/<pid>/stat around a
// fixed number of requests, rounds interleaved: steadier than req/s on a shared machine. The
// difference is what the console's slow-request onResponse hook costs a request.
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cpuPerRequest, startServer, stopServer } from '../lib/server-process.js'

const ROUNDS = Number(process.argv[2] ?? 5)
const REQUESTS = Number(process.argv[3] ?? 20_000)
const SERVERS = [
  { name: 'opskit-suite', file: 'suite-opskit.js' },
  { name: 'opskit-suite-console', file: 'suite-opskit-console.js' },
]
const fmt = (n) => n.toLocaleString('en-US', { maximumFractionDigits: 1 })

const logDir = await mkdtemp(join(tmpdir(), 'opskit-bench-console-cpu-'))
const running = []
try {
  for (const server of SERVERS) running.push(await startServer(server, logDir, 60))
  const cost = await cpuPerRequest(running, { paths: ['/hello', '/items/42'], rounds: ROUNDS, requests: REQUESTS })
  const suite = cost.get('opskit-suite')
  console.log(`\nServer CPU µs per request (median of ${ROUNDS} rounds × ${REQUESTS} requests, 50 connections, Node ${process.versions.node})\n`)
  console.log('| server | CPU µs/request | vs opskit-suite |')
  console.log('|---|---:|---:|')
  for (const r of running) console.log(`| ${r.name} | ${fmt(cost.get(r.name))} | ${fmt(cost.get(r.name) - suite)} |`)
} finally {
  await Promise.all(running.map(stopServer))
}
