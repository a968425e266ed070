// Public surface of @opskit/suite. Filled in by its issue.
export {}
