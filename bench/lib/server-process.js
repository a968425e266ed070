// Bench server processes: a free port, spawning `bench/servers/<file>` until it prints `ready`,
// stopping it, and measuring its CPU time per request. Shared by the harness and the CPU-cost scripts.
import { spawn } from 'node:child_process'
import autocannon from 'autocannon'
import { createWriteStream, readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SERVERS_DIR = join(dirname(dirname(fileURLToPath(import.meta.url))), 'servers')

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Spawns `node bench/servers/<file>` and resolves once it prints `ready`. Its output goes to a file. */
export async function startServer(server, logDir, readyTimeoutS) {
  const port = await freePort()
  const outPath = join(logDir, `${server.name}.out`)
  const out = createWriteStream(outPath)
  const child = spawn(process.execPath, [join(server.dir ?? SERVERS_DIR, server.file)], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      ...server.env,
      PORT: String(port),
      BENCH_LOG_DIR: logDir,
      LOG_FILE: join(logDir, `${server.name}.log`),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stderr.pipe(out)
  await new Promise((resolve, reject) => {
    let buffered = ''
    const timer = setTimeout(() => fail(new Error(`${server.name}: no "ready" within ${readyTimeoutS}s (output in ${outPath})`)), readyTimeoutS * 1000)
    function fail(err) {
      clearTimeout(timer)
      child.stdout.removeListener('data', onData)
      reject(err)
    }
    function onData(chunk) {
      buffered += chunk
      if (/^ready$/m.test(buffered)) {
        clearTimeout(timer)
        child.stdout.removeListener('data', onData)
        child.removeListener('exit', onExit)
        out.write(buffered)
        child.stdout.pipe(out)
        resolve()
      }
    }
    function onExit(code) {
      fail(new Error(`${server.name}: exited with code ${code} before "ready" (output in ${outPath})`))
    }
    child.stdout.on('data', onData)
    child.once('exit', onExit)
  })
  return { ...server, port, child, outPath }
}

export function stopServer(running) {
  const { child } = running
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/**
 * CPU time a process has run so far, in nanoseconds: the sum over its threads (main thread, V8's
 * GC and compiler threads, libuv's pool) of the scheduler's run time (`/proc/<pid>/task/<tid>/schedstat`,
 * first field). Nanosecond-exact, where utime + stime in `/proc/<pid>/stat` count 10 ms ticks (a
 * round of a few thousand requests is then only tens of ticks, ±1 tick of noise). A thread that
 * ended between two readings takes its time with it; Node's threads live as long as the process.
 */
export function cpuNs(pid) {
  let total = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // the thread ended while we read
    }
  }
  return total
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]

/** `items` in an order of their own for round `seed` (Fisher–Yates over a small LCG: repeatable). */
export function shuffled(items, seed) {
  const out = [...items]
  let state = (seed * 2654435761) >>> 0
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    const j = state % (i + 1)
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/**
 * Server CPU µs per request of each running server (what `startServer()` resolved with): `warmup`
 * requests each first (JIT), then `rounds` rounds interleaved (A B C … A B C), each sending
 * `requests` requests to every server with autocannon (`connections` connections, `paths`
 * alternated) and reading the server's CPU time from /proc around them; with `shuffle`, in a new
 * order each round (the same orders every run). CPU time is far less
 * disturbed than req/s by other load on a shared machine. Resolves with a Map: server name →
 * median µs per request over the rounds.
 */
export async function cpuPerRequest(running, { paths, rounds, requests, connections = 50, warmup = 5000, shuffle = false, log = (line) => process.stdout.write(line + '\n') }) {
  const load = (server, amount) =>
    autocannon({
      url: `http://127.0.0.1:${server.port}`,
      connections,
      amount,
      requests: paths.map((path) => (server.headers === undefined ? { method: 'GET', path } : { method: 'GET', path, headers: server.headers })),
    })
  for (const server of running) await load(server, warmup)
  const samples = new Map(running.map((server) => [server.name, []]))
  for (let round = 1; round <= rounds; round++) {
    for (const server of shuffle ? shuffled(running, round) : running) {
      const start = cpuNs(server.child.pid)
      const result = await load(server, requests)
      const ns = cpuNs(server.child.pid) - start
      samples.get(server.name).push(ns / 1000 / result.requests.sent)
    }
    log(`round ${round}/${rounds} done`)
  }
  const result = new Map([...samples].map(([name, values]) => [name, median(values)]))
  // Each server's per-round figures, in round order, for paired comparisons of two servers.
  result.samples = samples
  return result
}
