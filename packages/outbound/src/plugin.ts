import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { addOpskitHook } from '@opskit/core'
import { CallObserver, kOwner } from './call-observer.js'
import { subscribeHttp } from './http-channels.js'
import { resolveOptions } from './options.js'
import type { OpskitOutboundOptions } from './options.js'
import { createOutboundMetrics } from './outbound-metrics.js'
import { subscribeUndici } from './undici-channels.js'

// Async so that an invalid option rejects register() instead of hanging avvio.
const plugin: FastifyPluginAsync<OpskitOutboundOptions> = async (fastify, opts) => {
  const options = resolveOptions(opts, process.env)
  const observer = new CallObserver(options, fastify.log.child({ logger: 'outbound' }))

  // A call made while this instance serves a request is this instance's alone: another Fastify
  // in the same process (with its own @opskit/outbound) leaves it out of its lines and counters.
  addOpskitHook(fastify, 'onRequest', function markOwner(request: FastifyRequest) {
    const context = request.opskitContext
    if (context !== null && context !== undefined) (context as unknown as Record<symbol, unknown>)[kOwner] = observer
  })

  // Subscribed from register() on, so calls made while the app starts (onReady hooks, warm-up)
  // are observed too; a subscriber costs nothing until a client publishes.
  const unsubscribe = [subscribeUndici(observer), subscribeHttp(observer)]

  fastify.addHook('onReady', function bindMetrics(done) {
    observer.bindMetrics(createOutboundMetrics(fastify))
    done()
  })

  fastify.addHook('onClose', function unsubscribeChannels(_instance, done) {
    observer.close()
    for (const fn of unsubscribe) fn()
    done()
  })
}

/** Every outbound HTTP call (fetch, undici, node:http/https) logged and counted, through Node's diagnostics channels. */
export const opskitOutbound = fp(plugin, { fastify: '5.x', name: '@opskit/outbound', dependencies: ['@opskit/core'] })
export default opskitOutbound
