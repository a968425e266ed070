// Bench servers `noop-alloc` and `noop-alloc-property` of the `outbound` group (variants): the
// `without-outbound` server with subscribers on undici's channels that allocate about what
// @opskit/outbound allocates per call (about 1.5 KB: a dozen objects kept until the call ends,
// a string built from them and dropped) and do nothing else. `noop-alloc` keeps them in a WeakMap
// keyed by undici's request object (what the observer did before), `noop-alloc-property`
// (NOOP_ALLOC_KEEP=property) on the request object under a symbol (what it does now): what the
// allocation costs a loaded server, and what the WeakMap's ephemerons add to it.
import dc from 'node:diagnostics_channel'
import { outboundServer } from './outbound-shared.js'

const byProperty = process.env.NOOP_ALLOC_KEEP === 'property'
const kParts = Symbol('parts')
const weak = new WeakMap()
const live = byProperty
  ? { set: (r, v) => { r[kParts] = v }, get: (r) => r[kParts], delete: (r) => { r[kParts] = undefined } }
  : weak
let sink = ''
await outboundServer(byProperty ? 'noop-alloc-property' : 'noop-alloc', async () => {
  dc.subscribe('undici:request:create', ({ request }) => {
    const parts = []
    for (let i = 0; i < 12; i++) parts.push({ a: i, b: request.path, c: i * 1.5, d: null })
    live.set(request, parts)
  })
  dc.subscribe('undici:request:headers', ({ request }) => live.get(request))
  dc.subscribe('undici:request:trailers', ({ request }) => {
    const parts = live.get(request)
    live.delete(request)
    let s = '{"timestamp":"' + Date.now()
    for (const p of parts) s += ',"k' + p.a + '":' + p.c
    sink = s.length > 0 ? s : sink
  })
})
