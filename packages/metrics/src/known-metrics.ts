/**
 * The metrics other opskit plugins publish through `fastify.metrics` when they run beside
 * `@opskit/metrics` (names without the prefix; the helpers add it). Exported so every publisher
 * and every dashboard agree on one name, help text and label set.
 */
export const OPSKIT_METRICS = {
  rateLimitRejections: { name: 'rate_limit_rejections_total', help: 'Requests rejected with 429 by @opskit/rate-limit, by route template.', labelNames: ['route'] },
  auditEvents: { name: 'audit_events_total', help: 'Audit events committed by @opskit/audit, by action.', labelNames: ['action'] },
  auditWriteFailures: { name: 'audit_write_failures_total', help: 'Audit batches that failed to write.', labelNames: [] },
  auditQueueDepth: { name: 'audit_queue_depth', help: 'Audit events accepted and not yet committed.', labelNames: [] },
  securityEvents: { name: 'security_events_total', help: 'Security events recorded by @opskit/security-log, by action and severity.', labelNames: ['action', 'severity'] },
  healthCheckStatus: { name: 'health_check_status', help: 'Result of the last run of a health check (1 ok, 0 failed).', labelNames: ['check'] },
  healthCheckDuration: { name: 'health_check_duration_seconds', help: 'Duration of the last run of a health check, in seconds.', labelNames: ['check'] },
} as const satisfies Record<string, { name: string; help: string; labelNames: readonly string[] }>
