// `node bench/servers/rate-limit-hook-cost.js [calls=200000] [rounds=5]`: the limiter hook alone, in
// process, on real Fastify request/reply objects: @fastify/rate-limit's hook (defaults, and with
// opskit-style keyGenerator + max function) vs @opskit/rate-limit's memory-store hook (fixed and sliding). Each hook is
// driven the way Fastify's hook runner drives it: an async hook is awaited, a callback hook gets a
// `done`. Nothing is rejected (max 1e9). Prints ns per call, median of the rounds.
import Fastify from 'fastify'
import fastifyRateLimit from '@fastify/rate-limit'
import { opskitCore } from '../../packages/core/dist/index.js'
import { opskitRateLimit } from '../../packages/rate-limit/dist/index.js'

const CALLS = Number(process.argv[2] ?? 200_000)
const ROUNDS = Number(process.argv[3] ?? 5)

/** Builds an app, returns the last route-level onRequest hook its plugins attached to GET /x, and a real request/reply. */
async function capture(setup) {
  const app = Fastify({ logger: false })
  await setup(app)
  let hook
  app.addHook('onRoute', (route) => {
    if (route.method === 'GET') hook = route.onRequest.at(-1)
  })
  let pair
  app.get('/x', (request, reply) => {
    pair = { request, reply }
    reply.send('x')
  })
  await app.inject({ url: '/x', remoteAddress: '127.0.0.1' })
  const ranSymbol = Object.getOwnPropertySymbols(Object.getPrototypeOf(pair.request)).find((s) => s.description === 'fastify.request.rateLimitRan')
  return { app, hook, ...pair, ranSymbol }
}

const tiers = new Map([['admin', 1e9], ['anonymous', 1e9]])
const subjects = [
  {
    name: '@fastify/rate-limit (defaults)',
    ...(await capture((app) => app.register(fastifyRateLimit, { max: 1e9 }))),
  },
  {
    name: '@fastify/rate-limit + keyGenerator/max fn',
    ...(await capture(async (app) => {
      await app.register(opskitCore)
      await app.register(fastifyRateLimit, {
        max: (request) => (request.actor ? tiers.get(request.actor.role) ?? 1e9 : tiers.get('anonymous')),
        keyGenerator: (request) => (request.actor ? `user:${request.actor.id}` : request.ip),
      })
    })),
  },
  {
    name: '@opskit/rate-limit (memory)',
    callback: true,
    ...(await capture(async (app) => {
      await app.register(opskitCore)
      await app.register(opskitRateLimit, { max: 1e9, tiers: { admin: 1e9, anonymous: 1e9 } })
    })),
  },
  {
    name: '@opskit/rate-limit (memory, sliding)',
    callback: true,
    ...(await capture(async (app) => {
      await app.register(opskitCore)
      await app.register(opskitRateLimit, { max: 1e9, tiers: { admin: 1e9, anonymous: 1e9 }, algorithm: 'sliding' })
    })),
  },
]

async function run(subject) {
  const { hook, request, reply, ranSymbol, callback } = subject
  const start = process.hrtime.bigint()
  if (callback) {
    let called = 0
    const done = (err) => {
      if (err) throw err
      called++
    }
    for (let i = 0; i < CALLS; i++) hook(request, reply, done)
    if (called !== CALLS) throw new Error('the memory-store hook is expected to call done synchronously')
  } else {
    for (let i = 0; i < CALLS; i++) {
      request[ranSymbol] = false // the hook runs once per request
      await hook(request, reply)
    }
  }
  return Number(process.hrtime.bigint() - start) / CALLS
}

const samples = new Map(subjects.map((s) => [s.name, []]))
for (const s of subjects) await run(s) // warm-up (JIT)
for (let r = 0; r < ROUNDS; r++) for (const s of subjects) samples.get(s.name).push(await run(s))
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
// On a shared machine the fastest round is the one least disturbed by other work.
console.log(`Limiter hook cost, ns per call (${ROUNDS} rounds × ${CALLS} calls, Node ${process.versions.node})\n`)
console.log('| hook | ns/call (median) | ns/call (fastest round) |')
console.log('|---|---:|---:|')
for (const s of subjects) console.log(`| ${s.name} | ${median(samples.get(s.name)).toFixed(0)} | ${Math.min(...samples.get(s.name)).toFixed(0)} |`)
for (const s of subjects) await s.app.close()
