export { opskitAudit, default } from './plugin.js'
export { FST_OPSKIT_AUDIT_INVALID_OPTION, FST_AUDIT_INVALID_OPTION, InvalidAuditEventError, AuditTrackError, AuditBindError } from './errors.js'
export type { OpskitAuditOptions, AutoAuditOptions, AuditRoutesOptions, AuditQueueOptions } from './options.js'
export { auditTableSql, AUDIT_MIGRATION_SQL } from './schema.js'
export { QueueFullError, QueueClosedError, NotCommittedError, RefusedError, SpoolLockedError, InvalidQueryError } from '@opskit/store'
export type {
  AuditEvent, AuditCallOptions, AuditContext, AuditRecord, AuditQuery, AuditPage, AuditApi, AuditTrailApi,
} from './types.js'
export { auditableColumnsSql } from './auditable-columns.js'
export { chainHash } from './verify.js'
export type { VerifyOptions, VerifyResult } from './verify.js'
