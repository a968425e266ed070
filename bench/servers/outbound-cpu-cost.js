// `node bench/servers/outbound-cpu-cost.js [rounds=3] [requests=20000]`: server CPU time per request
// of the `outbound` bench servers (GET /hello, one fetch() per request to an upstream in its own
// process, whose CPU is not counted), from /proc/<pid>/stat around a fixed number of requests,
// rounds interleaved. Far less disturbed than req/s by other load on the machine:
// "opskit-outbound − without-outbound" is what observing one call costs.
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cpuPerRequest, startServer, stopServer } from '../lib/server-process.js'
import outbound from '../groups/outbound.js'

const ROUNDS = Number(process.argv[2] ?? 3)
const REQUESTS = Number(process.argv[3] ?? 20_000)
const fmt = (n) => n.toLocaleString('en-US', { maximumFractionDigits: 1 })

const logDir = await mkdtemp(join(tmpdir(), 'opskit-bench-outbound-cpu-'))
const running = []
try {
  for (const server of outbound.servers) running.push(await startServer(server, logDir, 60))
  const cost = await cpuPerRequest(running, { paths: ['/hello'], rounds: ROUNDS, requests: REQUESTS })
  const base = cost.get('without-outbound')
  console.log(`\nServer CPU µs per request (median of ${ROUNDS} rounds × ${REQUESTS} requests, 50 connections, Node ${process.versions.node})\n`)
  console.log('| server | CPU µs/request | over without-outbound | predicted req/s ratio |')
  console.log('|---|---:|---:|---:|')
  for (const r of running) {
    const c = cost.get(r.name)
    console.log(`| ${r.name} | ${fmt(c)} | ${fmt(c - base)} | ${(base / c).toFixed(3)}× |`)
  }
} finally {
  await Promise.all(running.map(stopServer))
}
