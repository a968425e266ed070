// Public surface of @opskit/rate-limit. Filled in by its issue.
export {}
