// Server CPU µs per request of the `suite` bench servers, and of the suite with one part turned
// off at a time, from /proc/<pid>/stat around a fixed number of requests (GET /hello and
// GET /items/42 alternated), rounds interleaved. CPU time is far less disturbed than req/s by other
// load on the machine, so it tells where the suite's time goes: "suite − (suite without X)" is the
// cost of X. With `taskset` (util-linux) the servers run on CPU 1 and the load generator on CPU 0,
// so a server never shares its core with the client (unpinned, migrations make the numbers wander).
// Used by `servers/suite-cpu-cost.js` and by the `suite` group of `run.js`.
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { cpuPerRequest, startServer, stopServer } from './server-process.js'

/** The parts `SUITE_OFF` turns off one at a time (the keys of the `opskit` plugin's options). */
export const SUITE_PARTS = ['logging', 'metrics', 'cors', 'health', 'securityLog', 'rateLimit', 'audit', 'outbound']

/** A valid W3C traceparent: the `suite traced` row sends it on every request (trace context on). */
export const BENCH_TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

/**
 * The servers of the table. `base` (a directory holding another checkout's `bench/servers`, built)
 * adds `opskit-suite (base)` from there, for an A/B of two builds in one interleaved run;
 * `emptyHooks` adds the suite with that many empty hooks more (what a hook costs).
 */
export function suiteCpuServers({ base, emptyHooks = 0 } = {}) {
  return [
    { name: 'bare', file: 'suite-bare.js' },
    { name: 'peer-stack', file: 'peer-stack.js' },
    { name: 'opskit-suite', file: 'suite-opskit.js' },
    ...(base === undefined ? [] : [{ name: 'opskit-suite (base)', file: 'suite-opskit.js', dir: join(base, 'bench', 'servers') }]),
    ...(emptyHooks > 0 ? [{ name: `suite + ${emptyHooks} empty hooks`, file: 'suite-opskit.js', env: { EMPTY_HOOKS: String(emptyHooks) }, extra: `${emptyHooks} empty hooks` }] : []),
    { name: 'suite, traced requests', file: 'suite-opskit.js', headers: { traceparent: BENCH_TRACEPARENT }, extra: 'trace context (traceparent on every request)' },
    { name: 'suite with console', file: 'suite-opskit-console.js', extra: 'console (registered, page closed)' },
    ...SUITE_PARTS.map((part) => ({ name: `suite without ${part}`, file: 'suite-opskit.js', env: { SUITE_OFF: part }, part })),
    { name: 'core only', file: 'suite-opskit.js', env: { SUITE_OFF: SUITE_PARTS.join(',') } },
  ]
}

function pin(pid, cpu) {
  try {
    execFileSync('taskset', ['-a', '-pc', String(cpu), String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const fmt = (n) => n.toLocaleString('en-US', { maximumFractionDigits: 1 })

/**
 * Runs the table; `only` (server names) keeps a subset (bare and opskit-suite always stay, the
 * differences need them). Progress goes to `log`, and the table too unless `print` is false.
 * Resolves with `{ rows, lines }`: rows `{ name, us }`, lines the Markdown.
 */
export async function suiteCpuTable({ rounds = 3, requests = 20_000, only, base, emptyHooks, print = true, log = (line) => process.stdout.write(line + '\n') } = {}) {
  let servers = suiteCpuServers({ base, emptyHooks })
  if (only !== undefined) servers = servers.filter((s) => s.name === 'bare' || s.name === 'opskit-suite' || only.includes(s.name))
  const logDir = await mkdtemp(join(tmpdir(), 'opskit-bench-suite-cpu-'))
  const running = []
  try {
    // one at a time: embedded PGlite start-ups compete for the CPU otherwise
    for (const server of servers) running.push(await startServer(server, logDir, 60))
    const pinned = pin(process.pid, 0) && running.every((r) => pin(r.child.pid, 1))
    log(`[suite cpu] ${servers.length} servers started; ` + (pinned ? 'servers pinned to CPU 1, load generator to CPU 0' : 'taskset not available: processes not pinned'))
    const cost = await cpuPerRequest(running, { paths: ['/hello', '/items/42'], rounds, requests, log: (line) => log(`[suite cpu] ${line}`) })
    const bare = cost.get('bare')
    const suite = cost.get('opskit-suite')
    const lines = [
      `Server CPU µs per request (median of ${rounds} rounds × ${requests} requests, 50 connections, GET /hello and GET /items/42, Node ${process.versions.node})`,
      '',
      '| server | CPU µs/request | over bare | predicted req/s ratio to bare |',
      '|---|---:|---:|---:|',
    ]
    for (const r of running) {
      const c = cost.get(r.name)
      lines.push(`| ${r.name} | ${fmt(c)} | ${fmt(c - bare)} | ${(bare / c).toFixed(2)}× |`)
    }
    lines.push('', '| part | its cost, µs/request |', '|---|---:|')
    for (const r of running) if (r.part) lines.push(`| ${r.part} (suite − suite without it) | ${fmt(suite - cost.get(r.name))} |`)
    for (const r of running) if (r.extra) lines.push(`| ${r.extra} (row − suite) | ${fmt(cost.get(r.name) - suite)} |`)
    if (cost.has('core only')) lines.push(`| core (core only − bare) | ${fmt(cost.get('core only') - bare)} |`)
    if (cost.has('opskit-suite (base)')) {
      // Paired by round: both builds were loaded back to back in every round.
      const a = cost.samples.get('opskit-suite')
      const b = cost.samples.get('opskit-suite (base)')
      const diffs = a.map((x, i) => x - b[i]).sort((x, y) => x - y)
      lines.push(`| this build − base build (median of per-round differences; all: ${diffs.map(fmt).join(', ')}) | ${fmt(diffs[diffs.length >> 1])} |`)
    }
    if (print) {
      log('')
      for (const line of lines) log(line)
    }
    return { rows: running.map((r) => ({ name: r.name, us: cost.get(r.name) })), lines }
  } finally {
    await Promise.all(running.map(stopServer))
  }
}
