// Public surface of @opskit/store. Filled in by its issue.
export {}
