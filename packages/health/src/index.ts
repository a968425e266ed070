// Public surface of @opskit/health. Filled in by its issue.
export {}
