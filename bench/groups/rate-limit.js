// Rate limiting: bare Fastify, @fastify/rate-limit with its defaults (alone and over @opskit/core),
// opskit's keying done through @fastify/rate-limit's hook, and @opskit/rate-limit with its memory and
// Redis stores, fixed and sliding window in memory. Nothing is rejected (max 1e9): this is the
// per-request cost of counting.
//
// Companion scripts (the harness has no per-group hook to run them):
// - `node bench/servers/rate-limit-redis-roundtrips.js`: Redis round trips per request, from
//   INFO commandstats before/after loading the opskit Redis server on a private redis-server.
// - `node bench/servers/rate-limit-cpu-cost.js`: server CPU µs per request of these same servers
//   (steadier than req/s on a shared machine), each minus its base.
// - `node bench/servers/rate-limit-hook-cost.js`: the limiter hooks alone, ns per call.
export default {
  name: 'rate-limit',
  description: 'per-request cost of @fastify/rate-limit vs @opskit/rate-limit (memory and Redis stores), nothing rejected',
  servers: [
    { name: 'bare', file: 'rate-limit-bare.js' },
    { name: 'fastify-rate-limit', file: 'rate-limit-fastify-rate-limit.js' },
    { name: 'core', file: 'rate-limit-core.js' },
    { name: 'core+fastify-rate-limit', file: 'rate-limit-core-fastify-rate-limit.js' },
    { name: 'core+fastify-rate-limit-tiers', file: 'rate-limit-core-fastify-rate-limit-tiers.js' },
    { name: 'opskit-rate-limit-memory', file: 'rate-limit-opskit-memory.js' },
    { name: 'opskit-rate-limit-memory-sliding', file: 'rate-limit-opskit-memory-sliding.js' },
    { name: 'opskit-rate-limit-redis', file: 'rate-limit-opskit-redis.js' },
  ],
  paths: ['/hello'],
  baseline: 'bare',
  goals: [
    { a: 'opskit-rate-limit-memory', b: 'core+fastify-rate-limit', min: 1.0, label: 'opskit memory > @fastify/rate-limit defaults, same base (core)' },
    { a: 'opskit-rate-limit-memory', b: 'core+fastify-rate-limit-tiers', min: 1.0, label: 'opskit memory > the same keying through @fastify/rate-limit\'s hook' },
    { a: 'opskit-rate-limit-memory', b: 'fastify-rate-limit', min: 1.0, label: 'opskit memory (with core) > @fastify/rate-limit alone' },
    { a: 'opskit-rate-limit-memory-sliding', b: 'opskit-rate-limit-memory', min: 0.9, label: 'opskit memory sliding within 10 % of opskit memory fixed' },
    { a: 'opskit-rate-limit-memory-sliding', b: 'core+fastify-rate-limit', min: 1.0, label: 'opskit memory sliding > @fastify/rate-limit defaults, same base (core)' },
  ],
}
