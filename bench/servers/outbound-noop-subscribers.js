// Bench server `noop-subscribers` of outbound-cpu-cost.js: the `without-outbound` server with
// a no-op subscriber on each of the four undici channels @opskit/outbound subscribes to: what
// publishing the channels costs undici itself, before any observer work.
import dc from 'node:diagnostics_channel'
import { outboundServer } from './outbound-shared.js'

const noop = () => {}
await outboundServer('noop-subscribers', async () => {
  for (const name of ['undici:request:create', 'undici:request:headers', 'undici:request:trailers', 'undici:request:error']) dc.subscribe(name, noop)
})
