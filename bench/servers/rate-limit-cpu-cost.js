// `node bench/servers/rate-limit-cpu-cost.js [rounds=5] [requests=30000]`: server CPU time per request
// of each `rate-limit` bench server, from /proc/<pid>/stat around a fixed number of requests, rounds
// interleaved (A B C … A B C). CPU time is far less disturbed than req/s by other load on the
// machine, so the limiter's own cost stands out: each server minus its base (bare or core).
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cpuPerRequest, startServer, stopServer } from '../lib/server-process.js'

const ROUNDS = Number(process.argv[2] ?? 5)
const REQUESTS = Number(process.argv[3] ?? 30_000)

const SERVERS = [
  { name: 'bare', file: 'rate-limit-bare.js' },
  { name: 'fastify-rate-limit', file: 'rate-limit-fastify-rate-limit.js', base: 'bare' },
  { name: 'core', file: 'rate-limit-core.js' },
  { name: 'core+fastify-rate-limit', file: 'rate-limit-core-fastify-rate-limit.js', base: 'core' },
  { name: 'core+fastify-rate-limit-tiers', file: 'rate-limit-core-fastify-rate-limit-tiers.js', base: 'core' },
  { name: 'opskit-rate-limit-memory', file: 'rate-limit-opskit-memory.js', base: 'core' },
  { name: 'opskit-rate-limit-memory-sliding', file: 'rate-limit-opskit-memory-sliding.js', base: 'core' },
  { name: 'opskit-rate-limit-redis', file: 'rate-limit-opskit-redis.js', base: 'core' },
]

const logDir = await mkdtemp(join(tmpdir(), 'opskit-bench-rate-limit-cpu-'))
const running = []
try {
  for (const server of SERVERS) running.push(await startServer(server, logDir, 30))
  const byName = await cpuPerRequest(running, { paths: ['/hello'], rounds: ROUNDS, requests: REQUESTS })
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
  await Promise.all(running.map(stopServer))
}
