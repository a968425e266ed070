// `node bench/servers/suite-cpu-cost.js [rounds=3] [requests=30000]`: server CPU time per request
// of the `suite` bench servers, and of the suite built up from core one part at a time (see
// ../lib/suite-cpu.js). SUITE_CPU_ONLY='core only,core + logging' keeps a subset of the rows;
// SUITE_CPU_BASE=/path/to/other/checkout adds `opskit-suite (base)` from that (built) checkout, for
// an interleaved A/B of two builds; SUITE_CPU_EMPTY_HOOKS=8 adds the suite with 8 empty hooks more;
// SUITE_CPU_PARTS=without has the suite without each part in turn instead of the suite built up
// from core one part at a time.
import { suiteCpuTable } from '../lib/suite-cpu.js'

await suiteCpuTable({
  rounds: Number(process.argv[2] ?? 3),
  requests: Number(process.argv[3] ?? 30_000),
  only: process.env.SUITE_CPU_ONLY === undefined ? undefined : process.env.SUITE_CPU_ONLY.split(',').map((s) => s.trim()),
  base: process.env.SUITE_CPU_BASE || undefined,
  emptyHooks: Number(process.env.SUITE_CPU_EMPTY_HOOKS ?? 0),
  parts: process.env.SUITE_CPU_PARTS === 'without' ? 'without' : 'added',
})
