import type { FastifyInstance } from 'fastify'
import type { MetricsApi } from './metrics-api.js'

/**
 * `fastify.metrics` when `@opskit/metrics` is registered on this instance (or an ancestor),
 * `undefined` otherwise: one typed way for a plugin to publish metrics only when metrics are on.
 * Call it from `onReady` or later, once every plugin has been registered.
 *
 * A package that must not depend on `@opskit/metrics` at run time does the same with
 * `import type { MetricsApi } from '@opskit/metrics'` and
 * `fastify.hasDecorator('metrics') ? fastify.getDecorator<MetricsApi>('metrics') : undefined`.
 */
export function metricsOf(fastify: FastifyInstance): MetricsApi | undefined {
  return fastify.hasDecorator('metrics') ? fastify.getDecorator<MetricsApi>('metrics') : undefined
}
