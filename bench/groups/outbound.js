// Outbound: the cost of @opskit/outbound on an outbound-heavy route (GET /hello makes one fetch()
// to a local upstream in its own process), against the same route unobserved, and against
// OpenTelemetry's undici instrumentation for comparison.
export default {
  name: 'outbound',
  description: 'one fetch() per request to a local upstream: @opskit/outbound vs nothing vs OpenTelemetry undici instrumentation',
  servers: [
    { name: 'without-outbound', file: 'outbound-bare.js' },
    { name: 'opskit-outbound', file: 'outbound-opskit.js' },
    { name: 'otel-undici', file: 'outbound-otel.js' },
  ],
  baseline: 'without-outbound',
  // Not loaded by run.js: what `node bench/same-core.js outbound <a> <b>` can also compare, to say
  // where the cost of opskit-outbound goes (the README's attribution rows).
  variants: [
    // opskit-outbound with @opskit/logging and @opskit/outbound as built by `node bench/build-base.js <revision>`.
    { name: 'opskit-outbound-base', file: 'outbound-opskit.js', env: { OPSKIT_DIST: 'dist-base' } },
    { name: 'opskit-outbound-no-line', file: 'outbound-opskit.js', env: { OUTBOUND_LINE: 'false' } },
    { name: 'opskit-outbound-no-propagation', file: 'outbound-opskit.js', env: { OUTBOUND_PROPAGATE: 'false' } },
    { name: 'opskit-outbound-upstream-ignored', file: 'outbound-opskit.js', env: { OUTBOUND_IGNORE_UPSTREAM: 'true' } },
    { name: 'noop-subscribers', file: 'outbound-noop-subscribers.js' },
    { name: 'noop-alloc', file: 'outbound-noop-alloc.js' },
    { name: 'noop-alloc-property', file: 'outbound-noop-alloc.js', env: { NOOP_ALLOC_KEEP: 'property' } },
    { name: 'one-more-line', file: 'outbound-one-more-line.js' },
    { name: 'one-more-hook', file: 'outbound-one-more-line.js', env: { ONE_MORE_LINE_LEVEL: 'debug' } },
  ],
  goals: [
    { a: 'opskit-outbound', b: 'without-outbound', min: 0.95, label: '@opskit/outbound costs at most 5 % of throughput on an outbound-heavy route' },
  ],
}
