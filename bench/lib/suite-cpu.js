// Server CPU µs per request of the `suite` bench servers, and of the suite built up from core one
// part at a time, from /proc/<pid>/stat around a fixed number of requests (GET /hello and
// GET /items/42 alternated), rounds interleaved. CPU time is far less disturbed than req/s by other
// load on the machine, so it tells where the suite's time goes: "(core + … + X) − (core + …)" is
// the cost of X, and the steps add up to the suite's cost over bare. With `taskset` (util-linux)
// the servers run on CPU 1 and the load generator on CPU 0, so a server never shares its core with
// the client (unpinned, migrations make the numbers wander).
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
 * `parts: 'added'` (the default) builds the suite up from core alone, one part added per row in
 * SUITE_PARTS order (`+ logging`, `+ metrics`, …; the last step is the suite itself): the steps add
 * up to the suite's cost over bare by construction, interactions between parts included where they
 * first appear. `parts: 'without'` has the suite without each part in turn instead: each part's
 * marginal cost, which need not add up.
 */
export function suiteCpuServers({ base, emptyHooks = 0, parts = 'added' } = {}) {
  const partRows =
    parts === 'without'
      ? SUITE_PARTS.map((part) => ({ name: `suite without ${part}`, file: 'suite-opskit.js', env: { SUITE_OFF: part }, part }))
      : SUITE_PARTS.slice(0, -1).map((part, i) => ({ name: `core + ${SUITE_PARTS.slice(0, i + 1).join(' + ')}`, file: 'suite-opskit.js', env: { SUITE_OFF: SUITE_PARTS.slice(i + 1).join(',') }, added: part }))
  return [
    { name: 'bare', file: 'suite-bare.js' },
    { name: 'peer-stack', file: 'peer-stack.js' },
    { name: 'opskit-suite', file: 'suite-opskit.js' },
    ...(base === undefined ? [] : [{ name: 'opskit-suite (base)', file: 'suite-opskit.js', dir: join(base, 'bench', 'servers') }]),
    ...(emptyHooks > 0 ? [{ name: `suite + ${emptyHooks} empty hooks`, file: 'suite-opskit.js', env: { EMPTY_HOOKS: String(emptyHooks) }, extra: `${emptyHooks} empty hooks` }] : []),
    { name: 'suite, traced requests', file: 'suite-opskit.js', headers: { traceparent: BENCH_TRACEPARENT }, extra: 'trace context (traceparent on every request)' },
    { name: 'suite with console', file: 'suite-opskit-console.js', extra: 'console (registered, page closed)' },
    { name: 'core only', file: 'suite-opskit.js', env: { SUITE_OFF: SUITE_PARTS.join(',') } },
    ...partRows,
  ]
}

/** Pins every thread of `pid` to `cpu` with taskset (util-linux); false when that is not possible. */
export function pin(pid, cpu) {
  try {
    execFileSync('taskset', ['-a', '-pc', String(cpu), String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const fmt = (n) => n.toLocaleString('en-US', { maximumFractionDigits: 1 })

/**
 * The spread of `a − b` over the rounds, paired round by round (both servers were loaded back to
 * back in each): the order statistics that bound the median of the differences with about 95 %
 * confidence (sign test: ranks k and n−1−k, k = ⌊(n − 1.96√n) / 2⌋), as `[lo, hi]` text. A step
 * whose interval holds 0 is within this machine's noise.
 */
export function pairedInterval(a, b) {
  const diffs = a.map((x, i) => x - b[i]).sort((x, y) => x - y)
  const n = diffs.length
  const k = Math.max(0, Math.floor((n - 1.96 * Math.sqrt(n)) / 2))
  return `${fmt(diffs[k])} … ${fmt(diffs[n - 1 - k])}`
}

/**
 * Runs the table; `only` (server names) keeps a subset (bare and opskit-suite always stay, the
 * differences need them). Progress goes to `log`, and the table too unless `print` is false.
 * Resolves with `{ rows, lines }`: rows `{ name, us }`, lines the Markdown.
 */
export async function suiteCpuTable({ rounds = 3, requests = 20_000, only, base, emptyHooks, parts, print = true, log = (line) => process.stdout.write(line + '\n') } = {}) {
  let servers = suiteCpuServers({ base, emptyHooks, parts })
  if (only !== undefined) servers = servers.filter((s) => s.name === 'bare' || s.name === 'opskit-suite' || s.name === 'opskit-suite (base)' || only.includes(s.name))
  const logDir = await mkdtemp(join(tmpdir(), 'opskit-bench-suite-cpu-'))
  const running = []
  try {
    // one at a time: embedded PGlite start-ups compete for the CPU otherwise
    for (const server of servers) running.push(await startServer(server, logDir, 60))
    const pinned = pin(process.pid, 0) && running.every((r) => pin(r.child.pid, 1))
    log(`[suite cpu] ${servers.length} servers started; ` + (pinned ? 'servers pinned to CPU 1, load generator to CPU 0' : 'taskset not available: processes not pinned'))
    // Each round loads the servers in a new order: in a fixed order the rows loaded late in a round
    // of thirteen came out up to 8 µs dearer than the same server loaded among four.
    const cost = await cpuPerRequest(running, { paths: ['/hello', '/items/42'], rounds, requests, shuffle: true, log: (line) => log(`[suite cpu] ${line}`) })
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
    const samples = (name) => cost.samples.get(name)
    lines.push('', '| part | its cost, µs/request | 95 % interval, paired by round |', '|---|---:|---:|')
    for (const r of running) if (r.part) lines.push(`| ${r.part} (suite − suite without it) | ${fmt(suite - cost.get(r.name))} | ${pairedInterval(samples('opskit-suite'), samples(r.name))} |`)
    if (running.some((r) => r.added) && cost.has('core only')) {
      // Built up from core alone: each step is the row minus the row before it, the last step the
      // suite, so the steps add up to the suite − bare.
      let previous = 'core only'
      lines.push(`| core (core only − bare) | ${fmt(cost.get(previous) - bare)} | ${pairedInterval(samples(previous), samples('bare'))} |`)
      const steps = [...running.filter((r) => r.added), { added: SUITE_PARTS.at(-1), name: 'opskit-suite' }]
      for (const r of steps) {
        lines.push(`| + ${r.added} (${r.name === 'opskit-suite' ? 'the suite' : r.name} − the row before) | ${fmt(cost.get(r.name) - cost.get(previous))} | ${pairedInterval(samples(r.name), samples(previous))} |`)
        previous = r.name
      }
      lines.push(`| **together: the suite − bare** | **${fmt(suite - bare)}** | ${pairedInterval(samples('opskit-suite'), samples('bare'))} |`)
    }
    for (const r of running) if (r.extra) lines.push(`| ${r.extra} (row − suite) | ${fmt(cost.get(r.name) - suite)} | ${pairedInterval(samples(r.name), samples('opskit-suite'))} |`)
    if (cost.has('core only') && !running.some((r) => r.added)) lines.push(`| core (core only − bare) | ${fmt(cost.get('core only') - bare)} | ${pairedInterval(samples('core only'), samples('bare'))} |`)
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
