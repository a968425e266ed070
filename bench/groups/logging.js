// Request logging: no logger at all, Fastify's default pino request logging (two lines per request)
// and opskit logging (one enriched, redacted line per request), all to a file.
export default {
  name: 'logging',
  description: 'bare Fastify vs Fastify default request logging vs @opskit/logging, logging to a file',
  servers: [
    { name: 'bare', file: 'logging-bare.js' },
    { name: 'fastify-default-logging', file: 'logging-fastify-default.js' },
    { name: 'opskit-logging', file: 'logging-opskit.js' },
  ],
  paths: ['/hello'],
  baseline: 'bare',
  goals: [
    { a: 'opskit-logging', b: 'fastify-default-logging', min: 1.3, label: 'opskit logging ≥ 1.3× Fastify default logging' },
    { a: 'opskit-logging', b: 'bare', min: 0.75, label: 'opskit logging ≥ 0.75× bare Fastify' },
  ],
}
