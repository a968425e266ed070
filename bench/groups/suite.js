// The full comparison: bare Fastify, Fastify + the whole opskit suite, and Fastify + the peer stack
// users would otherwise assemble. Each server serves GET /hello and GET /items/:id and logs to a file.
// After the req/s rounds, the CPU-per-part table (lib/suite-cpu.js): server CPU µs per request of
// the suite with each part turned off in turn, steadier than req/s on a shared machine.
import { suiteCpuTable } from '../lib/suite-cpu.js'

export default {
  name: 'suite',
  description: 'bare Fastify vs the opskit suite vs the peer stack (pino request logging, fastify-metrics, @fastify/rate-limit, @fastify/under-pressure, @fastify/cors)',
  servers: [
    { name: 'bare', file: 'suite-bare.js' },
    { name: 'opskit-suite', file: 'suite-opskit.js' },
    { name: 'peer-stack', file: 'peer-stack.js' },
  ],
  paths: ['/hello', '/items/42'],
  baseline: 'bare',
  // the bar: at least 5 interleaved rounds (`--rounds` still wins)
  defaults: { rounds: 5 },
  goals: [
    { a: 'opskit-suite', b: 'bare', min: 0.75, label: 'opskit suite ≥ 0.75× bare Fastify' },
    { a: 'opskit-suite', b: 'peer-stack', min: 2, label: 'opskit suite ≥ 2× the peer stack' },
    { a: 'opskit-suite', b: 'peer-stack', metric: 'p99', max: 1, label: 'opskit suite p99 ≤ the peer stack p99' },
  ],
  after: (opts, log) => (opts.cpuRounds === 0 ? undefined : suiteCpuTable({ rounds: opts.cpuRounds, requests: opts.cpuRequests, print: false, log })),
}
