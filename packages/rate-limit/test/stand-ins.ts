// Minimal stand-ins for @opskit/metrics and @opskit/security-log (written concurrently): the same
// decorator names and shapes the contract gives, over a real prom-client Registry.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Registry } from 'prom-client'
import { Writable } from 'node:stream'

export function metricsStandIn(registry: Registry) {
  return fp(
    async (fastify: FastifyInstance) => {
      const metrics = {
        registry,
        counter(cfg: { name: string; help: string; labelNames?: string[] }) {
          return (registry.getSingleMetric(cfg.name) as Counter | undefined) ?? new Counter({ ...cfg, registers: [registry] })
        },
      }
      fastify.decorate('metrics', metrics as never)
    },
    { name: 'metrics-stand-in' },
  )
}

export interface RecordedSecurityEvent {
  action: string
  requestId: string
  details: Record<string, unknown>
}

export function securityLogStandIn(events: RecordedSecurityEvent[]) {
  return fp(
    async (fastify: FastifyInstance) => {
      fastify.decorate('securityLog', { record: async () => undefined } as never)
      function securityEvent(this: FastifyRequest, action: string, opts: { details: Record<string, unknown> }) {
        events.push({ action, requestId: this.id, details: opts.details })
        return Promise.resolve()
      }
      fastify.decorateRequest('securityEvent', securityEvent as never)
    },
    { name: 'security-log-stand-in' },
  )
}

export interface LogLine {
  level: number
  msg: string
  [key: string]: unknown
}

/** A pino destination that keeps every line, parsed. */
export function logCapture(): { stream: Writable; lines: LogLine[] } {
  const lines: LogLine[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as LogLine)
      cb()
    },
  })
  return { stream, lines }
}

export const WARN = 40
export const ERROR = 50
