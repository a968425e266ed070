import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { getRequestContext } from '@opskit/core'
import { registerListRoute } from '@opskit/store'
import { createAuditMetrics } from './audit-metrics.js'
import { AUDIT_LIST_SPEC, AuditService } from './audit-service.js'
import { autoAuditRoute } from './auto-audit.js'
import { resolveOptions, type OpskitAuditOptions } from './options.js'
import { startRetention } from './retention.js'
import { bindContext } from './bind-context.js'
import { AuditableRecords } from './track.js'
import { chainHead, verifyChain } from './verify.js'
import type { AuditApi, AuditCallOptions, AuditEvent, AuditRecord } from './types.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The audit trail: `record`, `query`, `flush`, `migrate`. */
    audit: AuditApi
  }
  interface FastifyRequest {
    /** Records an audit event with this request's actor, IP, user agent, path and request id. Resolves once committed. */
    audit(event: AuditEvent, opts?: AuditCallOptions): Promise<AuditRecord>
  }
  interface FastifyContextConfig {
    /** `false`: auto audit skips this route. */
    audit?: false
  }
}

const auditPlugin: FastifyPluginAsync<OpskitAuditOptions> = async (fastify, opts) => {
  const options = resolveOptions(opts)
  const service = await AuditService.open(options, fastify.log)
  let retention: { stop(): Promise<void> } | null = null
  const records = new AuditableRecords(service.db, options.table, options.redact)
  const migrate = async (): Promise<void> => {
    await service.migrate()
    await records.migrate(options.chain)
  }

  try {
    if (options.migrate) await migrate()
    await service.replaySpool()
  } catch (err) {
    await service.close()
    throw err
  }
  // Runs after in-flight requests finished: every accepted event is flushed before the pool ends.
  fastify.addHook('onClose', async () => {
    await retention?.stop()
    await service.close()
  })

  // Only the public API: the service's internals (its database, close()) stay private.
  const api: AuditApi = {
    record: (event, ctx) => service.record(event, ctx),
    query: (filters) => service.query(filters),
    flush: () => service.flush(),
    migrate,
    get queueDepth() {
      return service.queueDepth
    },
    bind: (client, ctx) => bindContext(client, getRequestContext(), ctx),
    track: (table) => records.track(table),
    untrack: (table) => records.untrack(table),
    verify: (verifyOpts) => verifyChain(service.db, options.table, verifyOpts),
    head: () => chainHead(service.db, options.table),
  }
  fastify.decorate('audit', api)
  fastify.decorateRequest('audit', function audit(this: FastifyRequest, event: AuditEvent, callOpts?: AuditCallOptions): Promise<AuditRecord> {
    return service.recordIn(this.opskitContext ?? undefined, event, callOpts)
  })

  if (options.autoAudit !== null) {
    service.trackAuditedRequests()
    fastify.addHook('onRoute', autoAuditRoute(service, options.autoAudit.methods, options.autoAudit.ignore))
  }

  registerListRoute(fastify, {
    prefix: options.routes.prefix,
    authorize: options.routes.authorize,
    spec: AUDIT_LIST_SPEC,
    list: (parsed) => service.list(parsed),
  })

  fastify.addHook('onReady', async () => {
    service.setMetrics(createAuditMetrics(fastify, () => service.queueDepth))
    if (options.retentionDays !== undefined && retention === null) {
      retention = startRetention(service, options.retentionDays, fastify.log)
    }
  })
}

/** An audit trail that is never lost: PostgreSQL or PGlite, group commit, transactional mode, diffs, query route. */
export const opskitAudit = fp(auditPlugin, {
  fastify: '5.x',
  name: '@opskit/audit',
  dependencies: ['@opskit/core'],
})
export default opskitAudit
