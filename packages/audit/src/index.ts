// Public surface of @opskit/audit. Filled in by its issue.
export {}
