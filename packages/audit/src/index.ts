export { opskitAudit, default } from './plugin.js'
export { FST_AUDIT_INVALID_OPTION } from './options.js'
export type { OpskitAuditOptions, AutoAuditOptions, AuditRoutesOptions, AuditQueueOptions } from './options.js'
export { auditTableSql, AUDIT_MIGRATION_SQL, AUDIT_COLUMNS } from './schema.js'
export { InvalidAuditEventError } from './build-record.js'
export { diffFields, deepEqual } from './diff.js'
export { entityOfRoute } from './auto-audit.js'
export { QueueFullError, QueueClosedError, NotCommittedError, RefusedError, SpoolLockedError, InvalidQueryError } from '@opskit/store'
export type {
  AuditEvent, AuditCallOptions, AuditContext, AuditRecord, AuditQuery, AuditPage, AuditApi,
} from './types.js'
