// Bench server `opskit-outbound` of the `outbound` group: @opskit/outbound observes the fetch of
// every request (one `external call` line, http_client_requests_total and the duration histogram,
// x-request-id propagated to the upstream).
import { opskitOutbound } from '../../packages/outbound/dist/index.js'
import { outboundServer } from './outbound-shared.js'

await outboundServer('opskit-outbound', async (app) => {
  await app.register(opskitOutbound, { services: { items: '127.0.0.1' }, propagate: ['127.0.0.1'] })
})
