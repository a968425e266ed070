// Bench server `opskit-outbound` of the `outbound` group: @opskit/outbound observes the fetch of
// every request (one `external call` line, http_client_requests_total and the duration histogram,
// x-request-id propagated to the upstream). For the attribution rows of outbound-cpu-cost.js and
// instructions.js: `OUTBOUND_CALL_SITE=true` turns `callSite` on (the caller's stack captured at each
// call's start), `OUTBOUND_PROPAGATE=false` propagates nothing, `OUTBOUND_IGNORE_UPSTREAM=true`
// ignores the upstream's host (subscribed, but every call returns at its first check),
// `OUTBOUND_LINE=false` keeps the plugin's logger at warn (no `external call` line for an answered call).
import { outboundServer } from './outbound-shared.js'
// OPSKIT_DIST=dist-base: the build of bench/build-base.js <revision> instead (a change measured against it).
const { opskitOutbound } = await import(`../../packages/outbound/${process.env.OPSKIT_DIST ?? 'dist'}/index.js`)

await outboundServer('opskit-outbound', async (app) => {
  if (process.env.OUTBOUND_LINE === 'false') {
    const child = app.log.child.bind(app.log)
    app.log.child = (bindings, options) => {
      const logger = child(bindings, options)
      if (bindings?.logger === 'outbound') logger.level = 'warn'
      return logger
    }
  }
  await app.register(opskitOutbound, {
    services: { items: '127.0.0.1' },
    propagate: process.env.OUTBOUND_PROPAGATE === 'false' ? [] : ['127.0.0.1'],
    ignore: process.env.OUTBOUND_IGNORE_UPSTREAM === 'true' ? ['127.0.0.1'] : [],
    callSite: process.env.OUTBOUND_CALL_SITE === 'true',
  })
})
