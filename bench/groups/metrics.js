// Metrics: the per-request cost of @opskit/metrics against fastify-metrics (both with their defaults:
// RED metrics by route and process metrics), over 51 routes in use. `core` isolates @opskit/core's
// share of opskit's cost. Scrape time with 50 routes in use: `node bench/metrics-scrape.js`.
// A /health/ready probe storm against PostgreSQL: `node bench/servers/health-probe-storm.js`.
import { PATHS } from '../servers/metrics-routes.js'

export default {
  name: 'metrics',
  description: 'per-request cost of @opskit/metrics vs fastify-metrics, 51 routes in use',
  servers: [
    { name: 'bare', file: 'metrics-bare.js' },
    { name: 'core', file: 'metrics-core.js' },
    { name: 'opskit-metrics', file: 'metrics-opskit.js' },
    { name: 'fastify-metrics', file: 'metrics-fastify-metrics.js' },
  ],
  paths: PATHS,
  baseline: 'bare',
  goals: [
    { a: 'opskit-metrics', b: 'fastify-metrics', min: 1.0, label: 'opskit-metrics (with core) costs less per request than fastify-metrics' },
  ],
}
