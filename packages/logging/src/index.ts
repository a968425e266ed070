// Public surface of @opskit/logging. Filled in by its issue.
export {}
