// The bench harness: starts every server of a group in its own process, loads them in turn with
// autocannon in rounds (A B C A B C …, so drift in the machine hits every server alike), and
// reports mean req/s, p99 latency, errors and ratios as a Markdown table plus a JSON file.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { startServer, stopServer } from './server-process.js'

const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)))
export const RESULTS_DIR = join(BENCH_DIR, 'results')

/** Defaults of every run; each can be overridden on the command line (`--duration 5`). */
export const DEFAULTS = {
  rounds: 2,
  duration: 10,
  warmup: 3,
  connections: 100,
  pipelining: 1,
  readyTimeout: 30,
  // Groups with a CPU-per-part table (`suite`): its rounds and requests per server per round;
  // `--cpuRounds 0` leaves the table out.
  cpuRounds: 3,
  cpuRequests: 20_000,
}

/** `--rounds 3 --duration=5 logging suite` → `{ options: { rounds: 3, duration: 5 }, groups: ['logging', 'suite'] }`. */
export function parseArgs(argv) {
  const options = {}
  const groups = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) {
      groups.push(arg)
      continue
    }
    let [key, value] = arg.slice(2).split('=', 2)
    if (value === undefined) value = argv[++i]
    if (!(key in DEFAULTS)) throw new Error(`unknown option --${key} (known: ${Object.keys(DEFAULTS).join(', ')})`)
    const number = Number(value)
    if (!Number.isFinite(number) || number < 0 || (number === 0 && key !== 'cpuRounds')) throw new Error(`--${key} expects a positive number, got ${value}`)
    options[key] = number
  }
  return { options, groups }
}

function load(running, paths, seconds, options) {
  return autocannon({
    url: `http://127.0.0.1:${running.port}`,
    connections: options.connections,
    pipelining: options.pipelining,
    duration: seconds,
    // A server entry may give request headers (the trace-context group sends a traceparent).
    requests: paths.map((path) => (running.headers === undefined ? { method: 'GET', path } : { method: 'GET', path, headers: running.headers })),
  })
}

function mean(values) {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length
}

function metricOf(summary, metric) {
  return metric === 'p99' ? summary.p99 : summary.rps
}

/** Evaluates `{ a, b, min?, max?, metric = 'rps', label }` against the summaries. */
export function evaluateGoal(goal, byName) {
  const a = byName.get(goal.a)
  const b = byName.get(goal.b)
  const metric = goal.metric ?? 'rps'
  if (a === undefined || b === undefined) return { ...goal, metric, ratio: null, pass: false, reason: 'unknown server' }
  const denominator = metricOf(b, metric)
  const ratio = denominator === 0 ? null : metricOf(a, metric) / denominator
  const pass = ratio !== null && (goal.min === undefined || ratio >= goal.min) && (goal.max === undefined || ratio <= goal.max)
  return { ...goal, metric, ratio, interval: roundRatioInterval(a.rounds, b.rounds, metric), pass }
}

// Two-sided 95 % Student t quantiles by degrees of freedom (1…30; beyond, the normal's 1.96).
const T95 = [12.71, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042]

/**
 * The 95 % interval of the ratio a / b paired by round (each round loads every server once, one
 * after the other): the round-to-round drift of the machine falls out of each round's ratio.
 * Null with fewer than two rounds.
 */
export function roundRatioInterval(roundsA, roundsB, metric = 'rps') {
  const n = Math.min(roundsA?.length ?? 0, roundsB?.length ?? 0)
  if (n < 2) return null
  const ratios = []
  for (let i = 0; i < n; i++) {
    const b = metricOf(roundsB[i], metric)
    if (b > 0) ratios.push(metricOf(roundsA[i], metric) / b)
  }
  if (ratios.length < 2) return null
  const m = mean(ratios)
  const sd = Math.sqrt(ratios.reduce((acc, r) => acc + (r - m) ** 2, 0) / (ratios.length - 1))
  const half = (T95[ratios.length - 2] ?? 1.96) * (sd / Math.sqrt(ratios.length))
  return { mean: m, low: m - half, high: m + half, rounds: ratios.length }
}

function fmt(n, digits = 0) {
  return n === null || n === undefined ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** The Markdown report of one group: a server table and, when there are goals, a goals table. */
export function markdownReport(result) {
  const lines = []
  lines.push(`### ${result.group}${result.description ? ` — ${result.description}` : ''}`)
  lines.push('')
  lines.push(`${result.options.rounds} rounds × ${result.options.duration}s per server, ${result.options.connections} connections, pipelining ${result.options.pipelining}, paths ${result.paths.join(', ')}; Node ${process.versions.node}`)
  lines.push('')
  lines.push(`| server | req/s (mean) | p99 ms | errors | non-2xx | vs ${result.baseline} |`)
  lines.push('|---|---:|---:|---:|---:|---:|')
  for (const s of result.servers) {
    lines.push(`| ${s.name} | ${fmt(s.rps)} | ${fmt(s.p99, 1)} | ${fmt(s.errors)} | ${fmt(s.non2xx)} | ${fmt(s.vsBaseline, 2)}× |`)
  }
  if (result.goals.length > 0) {
    lines.push('')
    lines.push('| goal | measured | result |')
    lines.push('|---|---:|---|')
    for (const g of result.goals) {
      const bound = g.min !== undefined ? `≥ ${g.min}` : `≤ ${g.max}`
      const label = g.label ?? `${g.a} / ${g.b} ${g.metric} ${bound}`
      const interval = g.interval ? ` (paired by round: ${fmt(g.interval.mean, 3)}×, 95 % interval ${fmt(g.interval.low, 3)}–${fmt(g.interval.high, 3)})` : ''
      lines.push(`| ${label} | ${fmt(g.ratio, 2)}×${interval} | ${g.pass ? 'PASS' : 'FAIL'} |`)
    }
  }
  return lines.join('\n')
}

/**
 * Runs one group: `{ name, description?, servers: [{ name, file, env? }], baseline, paths? = ['/hello'], goals?, defaults?, after? }`.
 * `defaults` overrides DEFAULTS for the group (command-line flags still win); `after(opts, log)`
 * runs once the servers are stopped and resolves with extra figures (`lines` are printed after the
 * report, `rows` go to the JSON as `after`). Resolves with the result object (also written to
 * `bench/results/<group>.json`).
 */
export async function runGroup(group, options = {}, log = (line) => process.stdout.write(line + '\n')) {
  const opts = { ...DEFAULTS, ...group.defaults, ...options }
  const paths = group.paths ?? ['/hello']
  if (!group.servers.some((s) => s.name === group.baseline)) throw new Error(`group ${group.name}: baseline "${group.baseline}" is not one of its servers`)
  const logDir = await mkdtemp(join(tmpdir(), `opskit-bench-${group.name}-`))
  const running = []
  const stopAll = () => Promise.all(running.map(stopServer))
  const onSignal = () => {
    stopAll().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    log(`[${group.name}] starting ${group.servers.map((s) => s.name).join(', ')} (server logs in ${logDir})`)
    for (const server of group.servers) running.push(await startServer(server, logDir, opts.readyTimeout))
    for (const server of running) {
      log(`[${group.name}] warm-up ${server.name} ${opts.warmup}s`)
      await load(server, paths, opts.warmup, opts)
    }
    const samples = new Map(running.map((s) => [s.name, []]))
    for (let round = 1; round <= opts.rounds; round++) {
      // Each round starts one server further on, so no server always runs first or right after a
      // given one (a drift of the machine over a round, or what the previous load left behind,
      // falls on every server alike over the rounds).
      const start = (round - 1) % running.length
      for (const server of [...running.slice(start), ...running.slice(0, start)]) {
        const r = await load(server, paths, opts.duration, opts)
        const sample = {
          rps: r.requests.average,
          p99: r.latency.p99,
          errors: r.errors + r.timeouts,
          non2xx: r.non2xx,
        }
        samples.get(server.name).push(sample)
        log(`[${group.name}] round ${round}/${opts.rounds} ${server.name}: ${fmt(sample.rps)} req/s, p99 ${fmt(sample.p99, 1)} ms, errors ${sample.errors}, non-2xx ${sample.non2xx}`)
      }
    }
    const summaries = running.map((s) => {
      const list = samples.get(s.name)
      return {
        name: s.name,
        file: s.file,
        rps: mean(list.map((x) => x.rps)),
        p99: mean(list.map((x) => x.p99)),
        errors: list.reduce((a, x) => a + x.errors, 0),
        non2xx: list.reduce((a, x) => a + x.non2xx, 0),
        rounds: list,
      }
    })
    const byName = new Map(summaries.map((s) => [s.name, s]))
    const baseline = byName.get(group.baseline)
    for (const s of summaries) s.vsBaseline = baseline.rps === 0 ? null : s.rps / baseline.rps
    const result = {
      group: group.name,
      description: group.description,
      date: new Date().toISOString(),
      node: process.versions.node,
      options: opts,
      paths,
      baseline: group.baseline,
      servers: summaries,
      goals: (group.goals ?? []).map((g) => evaluateGoal(g, byName)),
    }
    log('')
    log(markdownReport(result))
    log('')
    await stopAll()
    if (group.after !== undefined) {
      const extra = await group.after(opts, log)
      if (extra !== undefined) {
        result.after = extra.rows
        log('')
        for (const line of extra.lines) log(line)
        log('')
      }
    }
    await mkdir(RESULTS_DIR, { recursive: true })
    await writeFile(join(RESULTS_DIR, `${group.name}.json`), JSON.stringify(result, null, 2) + '\n')
    return result
  } finally {
    await stopAll()
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}
