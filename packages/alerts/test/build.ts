import { opskitCore, requestIdGenerator } from '@opskit/core'
import { opskitHealth } from '@opskit/health'
import type { HealthCheckInput } from '@opskit/health'
import { opskitMetrics } from '@opskit/metrics'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { opskitAlerts } from '../src/index.js'
import type { OpskitAlertsOptions } from '../src/index.js'
import type { LogCapture } from './helpers.js'

export interface BuildOptions {
  checks?: Record<string, HealthCheckInput>
  metrics?: boolean
  logs?: LogCapture
  routes?: (app: FastifyInstance) => void
}

/** Fastify with the real core, health (no cache) and metrics plugins, then alerts. */
export async function buildApp(options: OpskitAlertsOptions, build: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: build.logs === undefined ? false : { level: 'info', stream: build.logs.stream },
    genReqId: requestIdGenerator(),
  })
  await app.register(opskitCore, {
    resolveActor: (request) => {
      const id = request.headers['x-user']
      return typeof id === 'string' ? { id, role: String(request.headers['x-role'] ?? ''), email: `${id}@example.com` } : null
    },
  })
  if (build.checks !== undefined) await app.register(opskitHealth, { checks: build.checks, cacheMs: 0 })
  if (build.metrics !== false) await app.register(opskitMetrics, { defaultMetrics: false })
  build.routes?.(app)
  await app.register(opskitAlerts, { service: 'shop', ...options })
  await app.ready()
  return app
}
