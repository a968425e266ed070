// `node bench/same-core.js <group> <a> <b> [--rounds 10] [--duration 5] [--connections 30] [--warmup 3]`
// (after `pnpm build`; BENCH_NODE picks the Node line, as for run.js): servers `a` and `b` of a
// group (its `servers`, or its `variants`) loaded at the same time, both on CPU 1 with every thread,
// the load generator (this process) and the servers' own child processes (an upstream) on CPU 0.
// The scheduler gives each server half of CPU 1, so b's req/s over a's is what b's CPU time per
// request allows against a's, measured under the same machine at the same moment: a drift of the
// machine (on a shared VM a fixed loop's CPU time moves by ±20 % from one second to the next) falls
// on both alike, where run.js loads the servers one after the other and each round sees another
// machine. Prints each round, then b/a in req/s and in CPU µs per request (from schedstat), each with
// its 95 % interval over the rounds. `a` twice (an A/A run) shows the bias of the method itself.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import autocannon from 'autocannon'
import { parseArgs } from './lib/harness.js'
import { runOnSelectedNode } from './lib/node-line.js'
import { cpuNs, startServer, stopServer } from './lib/server-process.js'
import { pin as pinTo } from './lib/suite-cpu.js'

runOnSelectedNode()

const { options, groups: names } = parseArgs(process.argv.slice(2))
const rounds = options.rounds ?? 10
const duration = options.duration ?? 5
const connections = options.connections ?? 30
const warmup = options.warmup ?? 3
const [groupName, nameA, nameB] = names
if (nameB === undefined) {
  console.error('usage: node bench/same-core.js <group> <server a> <server b> [--rounds N] [--duration S] [--connections C] [--warmup S]')
  process.exit(2)
}
const groupsDir = join(dirname(fileURLToPath(import.meta.url)), 'groups')
if (!existsSync(join(groupsDir, `${groupName}.js`))) {
  console.error(`unknown group "${groupName}"; known: ${readdirSync(groupsDir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).join(', ')}`)
  process.exit(2)
}
const group = (await import(pathToFileURL(join(groupsDir, `${groupName}.js`)).href)).default
const known = [...group.servers, ...(group.variants ?? [])]
const find = (name) => {
  const server = known.find((s) => s.name === name)
  if (server === undefined) {
    console.error(`group ${groupName} has no server "${name}"; known: ${known.map((s) => s.name).join(', ')}`)
    process.exit(2)
  }
  return server
}
const specA = find(nameA)
// An A/A run: the second copy gets its own name (its own log file).
const specB = nameA === nameB ? { ...find(nameB), name: `${nameB} (again)` } : find(nameB)

/** Every thread of `pid` on `cpu` (lib/suite-cpu.js's taskset), or a clear error. */
function pin(pid, cpu) {
  if (!pinTo(pid, cpu)) throw new Error(`same-core: cannot pin process ${pid} to CPU ${cpu} with taskset (util-linux)`)
}

function childrenOf(pid) {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean)
  } catch {
    return [] // pgrep exits 1 when there is none
  }
}

const T95 = [12.71, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086]
function interval(values) {
  const n = values.length
  const m = values.reduce((s, v) => s + v, 0) / n
  if (n < 2) return { mean: m, half: NaN }
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1))
  return { mean: m, half: ((T95[n - 2] ?? 1.96) * sd) / Math.sqrt(n) }
}

// Not `navigator.hardwareConcurrency`: Node 20 has no `navigator`.
const cpus = availableParallelism()
if (cpus < 2) {
  console.error(`same-core needs 2 CPUs (one for the servers, one for the load and upstreams); this machine has ${cpus}`)
  process.exit(2)
}
const logDir = await mkdtemp(join(tmpdir(), `opskit-bench-same-core-${groupName}-`))
const running = []
try {
  for (const spec of [specA, specB]) running.push(await startServer(spec, logDir, 60))
  pin(process.pid, 0)
  for (const r of running) {
    pin(r.child.pid, 1)
    for (const child of childrenOf(r.child.pid)) pin(child, 0)
  }
  const load = (r, seconds) => autocannon({ url: `http://127.0.0.1:${r.port}`, connections, duration: seconds, requests: (group.paths ?? ['/hello']).map((path) => ({ method: 'GET', path, ...(r.headers ? { headers: r.headers } : {}) })) })
  console.log(`[same-core] ${specA.name} and ${specB.name} on CPU 1, load and upstreams on CPU 0; warm-up ${warmup}s (server logs in ${logDir})`)
  await Promise.all(running.map((r) => load(r, warmup)))
  const reqRatios = []
  const cpuRatios = []
  const cpuUs = [[], []]
  for (let round = 1; round <= rounds; round++) {
    const before = running.map((r) => cpuNs(r.child.pid))
    const results = await Promise.all(running.map((r) => load(r, duration)))
    const [ra, rb] = results.map((x) => x.requests.total)
    const [ua, ub] = running.map((r, i) => (cpuNs(r.child.pid) - before[i]) / 1000 / results[i].requests.total)
    const errors = results.reduce((s, x) => s + x.errors + x.timeouts + x.non2xx, 0)
    reqRatios.push(rb / ra)
    cpuRatios.push(ua / ub)
    cpuUs[0].push(ua)
    cpuUs[1].push(ub)
    console.log(`[same-core] round ${round}/${rounds}: ${specA.name} ${ra} requests, ${ua.toFixed(1)} CPU µs each; ${specB.name} ${rb}, ${ub.toFixed(1)} µs; b/a ${(rb / ra).toFixed(3)}${errors ? `; ${errors} errors or non-2xx` : ''}`)
  }
  const req = interval(reqRatios)
  const cpu = interval(cpuRatios)
  const [ma, mb] = cpuUs.map((list) => interval(list).mean)
  const diff = interval(cpuUs[1].map((u, i) => u - cpuUs[0][i]))
  console.log('')
  console.log(`### same core: ${specB.name} vs ${specA.name} (group ${groupName})`)
  console.log('')
  console.log(`${rounds} rounds × ${duration}s, both at once on one CPU, ${connections} connections each, Node ${process.versions.node}`)
  console.log('')
  console.log('| measure | ratio b/a | 95 % interval |')
  console.log('|---|---:|---|')
  console.log(`| req/s | ${req.mean.toFixed(3)}× | ${(req.mean - req.half).toFixed(3)}–${(req.mean + req.half).toFixed(3)} |`)
  console.log(`| CPU time per request (a/b) | ${cpu.mean.toFixed(3)}× | ${(cpu.mean - cpu.half).toFixed(3)}–${(cpu.mean + cpu.half).toFixed(3)} |`)
  console.log('')
  console.log(`CPU µs per request: ${specA.name} ${ma.toFixed(1)}, ${specB.name} ${mb.toFixed(1)} (b − a ${diff.mean.toFixed(1)} ± ${diff.half.toFixed(1)})`)
} finally {
  await Promise.all(running.map(stopServer))
}
