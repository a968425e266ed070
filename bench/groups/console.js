// What the ops console costs a request nobody is watching: the opskit suite with and without
// `console: { authorize }` (a per-response comparison for the slow-request list; the traffic ring
// reads the metrics registry once a minute on a timer).
export default {
  name: 'console',
  description: 'the opskit suite vs the opskit suite with @opskit/console registered (page closed)',
  servers: [
    { name: 'opskit-suite', file: 'suite-opskit.js' },
    { name: 'opskit-suite-console', file: 'suite-opskit-console.js' },
  ],
  paths: ['/hello', '/items/42'],
  baseline: 'opskit-suite',
  goals: [
    { a: 'opskit-suite-console', b: 'opskit-suite', min: 0.95, label: 'with the console ≥ 0.95× the suite (within noise)' },
  ],
}
