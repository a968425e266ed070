// Public surface of @opskit/metrics. Filled in by its issue.
export {}
