// The full comparison: bare Fastify, Fastify + the whole opskit suite, and Fastify + the peer stack
// users would otherwise assemble. Each server serves GET /hello and GET /items/:id and logs to a file.
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
  goals: [
    { a: 'opskit-suite', b: 'bare', min: 0.6, label: 'opskit suite ≥ 0.6× bare Fastify' },
    { a: 'opskit-suite', b: 'peer-stack', min: 1.5, label: 'opskit suite ≥ 1.5× the peer stack' },
    { a: 'opskit-suite', b: 'peer-stack', metric: 'p99', max: 1, label: 'opskit suite p99 ≤ the peer stack p99' },
  ],
}
