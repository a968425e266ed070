// Public surface of @opskit/security-log. Filled in by its issue.
export {}
