// `node bench/servers/rate-limit-redis-roundtrips.js [seconds=5]`: Redis round trips per request of
// @opskit/rate-limit's Redis store, for the fixed and the sliding window. Starts a private
// redis-server (so no other client's commands count; falls back to REDIS_URL with a warning when
// redis-server is not installed), starts the `opskit-rate-limit-redis` bench server on it once per
// algorithm, loads it with autocannon and prints `INFO commandstats` before and after. Exits 1 when
// a request costs more than one round trip.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'
import { freePort } from '../lib/server-process.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const SECONDS = Number(process.argv[2] ?? 5)
// Commands Redis counts in commandstats when a Lua script calls them: not round trips of their own.
const INSIDE_SCRIPT = new Set(['incr', 'pexpire', 'pttl', 'get', 'hmget', 'hset'])

async function waitForLine(child, pattern, what) {
  let buffered = ''
  const timer = setTimeout(() => {
    throw new Error(`${what}: no "${pattern}" within 20 s`)
  }, 20_000)
  for await (const chunk of child.stdout) {
    buffered += chunk
    if (pattern.test(buffered)) break
  }
  clearTimeout(timer)
}

async function startPrivateRedis() {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const failed = once(child, 'error').then(([err]) => err)
  const ready = waitForLine(child, /Ready to accept connections/, 'redis-server').then(() => null)
  const err = await Promise.race([failed, ready])
  if (err) return null
  return { url: `redis://127.0.0.1:${port}`, child }
}

async function commandstats(redis) {
  const text = await redis.info('commandstats')
  const stats = new Map()
  for (const line of text.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim())
    if (m) stats.set(m[1], Number(m[2]))
  }
  return stats
}

const privateRedis = await startPrivateRedis()
const url = privateRedis?.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
if (!privateRedis) console.warn(`redis-server not found: using ${url}; other clients' commands on it count too`)

const admin = new Redis(url)
const verdicts = []
for (const algorithm of ['fixed', 'sliding']) {
  const port = await freePort()
  const server = spawn(process.execPath, [join(HERE, 'rate-limit-opskit-redis.js')], {
    env: { ...process.env, REDIS_URL: url, PORT: String(port), RATE_LIMIT_ALGORITHM: algorithm },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await waitForLine(server, /^ready$/m, `opskit-rate-limit-redis (${algorithm})`)

  const before = await commandstats(admin)
  const result = await autocannon({ url: `http://127.0.0.1:${port}/hello`, connections: 50, duration: SECONDS })
  const after = await commandstats(admin)

  // Requests sent, not only completed: the ones in flight when the run stopped reached the server too.
  const requests = result.requests.sent
  const rows = []
  let roundTrips = 0
  for (const [name, calls] of after) {
    const delta = calls - (before.get(name) ?? 0) - (name === 'info' ? 1 : 0) // our own INFO
    if (delta <= 0) continue
    const inside = INSIDE_SCRIPT.has(name)
    if (!inside) roundTrips += delta
    rows.push({ command: name, calls: delta, perRequest: (delta / requests).toFixed(4), roundTrip: inside ? 'no (inside the script)' : 'yes' })
  }
  console.log(`\n${algorithm}: INFO commandstats delta over ${requests} requests sent (${result['2xx']} answered 2xx, ${result.non2xx} non-2xx) (${SECONDS}s, 50 connections, ${privateRedis ? 'private redis-server' : url}):`)
  console.table(rows)
  const perRequest = roundTrips / requests
  console.log(`${algorithm}: Redis round trips per request: ${perRequest.toFixed(4)} (goal ≤ 1): ${perRequest <= 1 ? 'PASS' : 'FAIL'}`)
  verdicts.push(perRequest <= 1 && requests > 0)

  server.kill('SIGTERM')
  await once(server, 'exit')
}

await admin.quit()
if (privateRedis) {
  privateRedis.child.kill('SIGTERM')
  await once(privateRedis.child, 'exit')
}
process.exitCode = verdicts.every(Boolean) ? 0 : 1
