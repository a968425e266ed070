// `node bench/servers/outbound-cpu-cost.js [rounds=3] [requests=20000]`: server CPU time per request
// of the `outbound` bench servers (GET /hello, one fetch() per request to an upstream in its own
// process, whose CPU is not counted), from /proc/<pid>/stat around a fixed number of requests,
// rounds interleaved. Far less disturbed than req/s by other load on the machine:
// "opskit-outbound − without-outbound" is what observing one call costs; `opskit-outbound-call-site`
// is the same with `callSite: true` (the caller's stack captured at each call's start);
// `-no-propagation` propagates no header, `-upstream-ignored` ignores the upstream's host (what
// being subscribed costs a call the observer leaves alone), `noop-subscribers` has a no-op function
// on each undici channel and no plugin (what publishing costs undici itself). Ends with
// the goal line: opskit-outbound's predicted throughput ratio against ≥ 0.95×.
import { mkdtemp } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { cpuPerRequest, startServer, stopServer } from '../lib/server-process.js'
import { execFileSync } from 'node:child_process'
import { pairedInterval, pin } from '../lib/suite-cpu.js'
import outbound from '../groups/outbound.js'

const ROUNDS = Number(process.argv[2] ?? 3)
const REQUESTS = Number(process.argv[3] ?? 20_000)
const fmt = (n) => n.toLocaleString('en-US', { maximumFractionDigits: 1 })

const logDir = await mkdtemp(join(tmpdir(), 'opskit-bench-outbound-cpu-'))
const running = []
try {
  const servers = [
    ...outbound.servers,
    { name: 'opskit-outbound-call-site', file: 'outbound-opskit.js', env: { OUTBOUND_CALL_SITE: 'true' } },
    { name: 'noop-subscribers', file: 'outbound-noop-subscribers.js' },
    { name: 'opskit-outbound-no-propagation', file: 'outbound-opskit.js', env: { OUTBOUND_PROPAGATE: 'false' } },
    { name: 'opskit-outbound-upstream-ignored', file: 'outbound-opskit.js', env: { OUTBOUND_IGNORE_UPSTREAM: 'true' } },
  ]
  for (const server of servers) running.push(await startServer(server, logDir, 60))
  // The servers on CPU 1; the load generator and the upstreams (each server's child process) on CPU 0.
  const children = (pid) => execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean)
  let pinned = false
  try {
    pinned = pin(process.pid, 0) && running.every((r) => pin(r.child.pid, 1) && children(r.child.pid).every((child) => pin(child, 0)))
  } catch {
    pinned = false
  }
  console.log(pinned ? 'servers pinned to CPU 1, load generator and upstreams to CPU 0' : 'taskset or pgrep not available: processes not pinned')
  const cost = await cpuPerRequest(running, { paths: ['/hello'], rounds: ROUNDS, requests: REQUESTS })
  const base = cost.get('without-outbound')
  console.log(`\nServer CPU µs per request (median of ${ROUNDS} rounds × ${REQUESTS} requests, 50 connections, Node ${process.versions.node})\n`)
  console.log('| server | CPU µs/request | over without-outbound | 95 % interval, paired by round | predicted req/s ratio |')
  console.log('|---|---:|---:|---:|---:|')
  for (const r of running) {
    const c = cost.get(r.name)
    console.log(`| ${r.name} | ${fmt(c)} | ${fmt(c - base)} | ${pairedInterval(cost.samples.get(r.name), cost.samples.get('without-outbound'))} | ${(base / c).toFixed(3)}× |`)
  }
  const ratio = base / cost.get('opskit-outbound')
  console.log(`\nopskit-outbound vs without-outbound: ${ratio.toFixed(3)}× predicted throughput (goal ≥ 0.95×: ${ratio >= 0.95 ? 'met' : 'missed'}; load average ${loadavg()[0].toFixed(1)} at the end)`)
} finally {
  await Promise.all(running.map(stopServer))
}
