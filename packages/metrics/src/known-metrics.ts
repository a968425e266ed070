/**
 * The metrics the other opskit plugins publish through `fastify.metrics` when they run beside
 * `@opskit/metrics` (names without the prefix; the helpers add it), with the help texts and label
 * names they register. Each plugin declares its own (none depends on this package); this list
 * mirrors them for dashboards, alert rules and your own code (pass an entry to the helpers to get
 * the same metric object).
 */
export const OPSKIT_METRICS = {
  rateLimitRejections: { name: 'rate_limit_rejections_total', help: 'Requests rejected with 429 by the rate limiter', labelNames: ['route'] },
  rateLimitStoreErrors: { name: 'rate_limit_store_errors_total', help: 'Rate-limit store calls that failed or timed out', labelNames: [] },
  auditEvents: { name: 'audit_events_total', help: 'Audit events committed, by action', labelNames: ['action'] },
  auditWriteFailures: { name: 'audit_write_failures_total', help: 'Failed audit INSERT attempts (queued events are retried)', labelNames: [] },
  auditEventsNotStored: {
    name: 'audit_events_not_stored_total',
    help: 'Audit events that will never be stored: refused (queue full, recorded after close), failed on the caller\'s client, or unwritten when close() gave up',
    labelNames: [],
  },
  auditQueueDepth: { name: 'audit_queue_depth', help: 'Audit events accepted but not yet committed', labelNames: [] },
  securityEvents: { name: 'security_events_total', help: 'Security events recorded, by action and severity', labelNames: ['action', 'severity'] },
  securityEventsNotStored: {
    name: 'security_events_not_stored_total',
    help: 'Security events accepted but never written (queue full, or still unwritten when close() gave up)',
    labelNames: [],
  },
  securityWriteFailures: { name: 'security_write_failures_total', help: 'Failed security event INSERT attempts (each batch is retried)', labelNames: [] },
  healthCheckStatus: { name: 'health_check_status', help: 'Result of the last run of a health check (1 ok, 0 failed).', labelNames: ['check'] },
  healthCheckDuration: { name: 'health_check_duration_seconds', help: 'Duration of the last run of a health check, in seconds.', labelNames: ['check'] },
  jobs: { name: 'jobs_total', help: 'Background jobs (runJob) finished, by job and status (ok or failed)', labelNames: ['job', 'status'] },
  jobDuration: { name: 'job_duration_seconds', help: 'Duration of background jobs (runJob), in seconds, by job', labelNames: ['job'] },
  httpClientRequests: {
    name: 'http_client_requests_total',
    help: 'Outbound HTTP calls, by service, method and status code ("error" when no response)',
    labelNames: ['service', 'method', 'status_code'],
  },
  httpClientRequestDuration: {
    name: 'http_client_request_duration_seconds',
    help: 'Duration of outbound HTTP calls in seconds, by service, method and status code',
    labelNames: ['service', 'method', 'status_code'],
  },
  alertsFiring: { name: 'alerts_firing', help: 'Alerts firing now on this instance, by alert', labelNames: ['alert'] },
  alertsSent: { name: 'alerts_sent_total', help: 'Alert messages delivered, by alert, sink and kind (firing, resolved, summary)', labelNames: ['alert', 'sink', 'kind'] },
  alertsDeliveryFailures: { name: 'alerts_delivery_failures_total', help: 'Failed alert delivery attempts, by sink (each retry counts)', labelNames: ['sink'] },
} as const satisfies Record<string, { name: string; help: string; labelNames: readonly string[] }>
