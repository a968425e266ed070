// Audit: one event per request (an update with before/after) against DATABASE_URL, else embedded
// PGlite. Bare Fastify + core; the hand-written audit teams write (one awaited INSERT per request,
// no redaction, no retry); @opskit/audit awaiting the committed row (group commit); and
// @opskit/audit not awaiting it. Throughput and per-call cost outside HTTP: `node bench/audit.js`.
export default {
  name: 'audit',
  description: 'one audit row per request: hand-written awaited INSERT vs @opskit/audit (awaited and fire-and-forget) vs no audit',
  servers: [
    { name: 'bare', file: 'audit-bare.js' },
    { name: 'hand-written', file: 'audit-hand-written.js' },
    { name: 'opskit-audit', file: 'audit-opskit.js', env: { AUDIT_AWAIT: '1' } },
    { name: 'opskit-audit-fire-and-forget', file: 'audit-opskit.js', env: { AUDIT_AWAIT: '0' } },
  ],
  paths: ['/bookings/42'],
  baseline: 'bare',
  goals: [
    { a: 'opskit-audit', b: 'hand-written', min: 1.0, label: 'opskit audit (awaited, committed) ≥ hand-written awaited INSERT' },
    { a: 'opskit-audit', b: 'hand-written', metric: 'p99', max: 1, label: 'opskit audit p99 ≤ hand-written p99' },
  ],
}
