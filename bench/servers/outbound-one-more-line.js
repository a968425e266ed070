// Bench variant `one-more-line` of the `outbound` group (bench/same-core.js): the unobserved route,
// plus one line of the `external call` shape per request, written from an onResponse hook through
// the same fixed-key path (core's ExternalCallFields). What the line alone costs a request, with no
// observer, no metrics and no propagation: the part of opskit-outbound's cost that is logging.
// Variant `one-more-hook` (`ONE_MORE_LINE_LEVEL=debug`): the same hook and fields, the line below
// the logger's level (not written): what the hook costs without the line.
import { performance } from 'node:perf_hooks'
import { ExternalCallFields, getRequestContext } from '../../packages/core/dist/index.js'
import { outboundServer } from './outbound-shared.js'

await outboundServer('one-more-line', async (app) => {
  const log = app.log.child({ logger: 'outbound' })
  const level = process.env.ONE_MORE_LINE_LEVEL === 'debug' ? 'debug' : 'info'
  const start = performance.now()
  app.addHook('onResponse', async () => {
    const context = getRequestContext()
    const ms = Math.round((performance.now() - start) * 1000) / 1000
    log[level](new ExternalCallFields('items', 'GET', 'http://127.0.0.1:40000/items/42?page=1', 200, ms % 10, context?.requestId, context?.actor?.id, context ?? null), 'external call')
  })
})
