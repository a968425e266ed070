// Trace context: the whole suite with requests that carry no traceparent (what every request pays:
// a branch), with a valid traceparent on every request (trace_id/span_id on the lines, exemplars),
// and with ENABLE_OPENTELEMETRY=true (the SDK and @fastify/otel, spans exported to a local sink).
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

export default {
  name: 'trace-context',
  description: 'the opskit suite: no traceparent vs a traceparent on every request vs ENABLE_OPENTELEMETRY=true (@fastify/otel, OTLP to a local sink)',
  servers: [
    { name: 'suite-no-trace', file: 'suite-opskit.js' },
    { name: 'suite-traceparent', file: 'suite-opskit.js', headers: { traceparent: TRACEPARENT } },
    { name: 'suite-opentelemetry', file: 'suite-opskit.js', env: { OTEL_SINK: '1' } },
  ],
  paths: ['/hello', '/items/42'],
  baseline: 'suite-no-trace',
  goals: [
    { a: 'suite-traceparent', b: 'suite-no-trace', min: 0.9, label: 'a traceparent on every request ≥ 0.9× no trace context (goal: within noise)' },
  ],
}
