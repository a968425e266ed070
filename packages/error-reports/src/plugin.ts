import { getRequestContext } from '@opskit/core'
import { defaultStackParser, makeNodeTransport, NodeClient, Scope } from '@sentry/node'
import type { FastifyError, FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { resolveOptions } from './options.js'
import type { OpskitErrorReportsOptions } from './options.js'
import { scrubEvent } from './scrub.js'

/** `fastify.errorReports` */
export interface ErrorReportsApi {
  /** False when no DSN was given (nothing is sent). */
  readonly enabled: boolean
  /** Reports `error` (tagged with `request`'s context when given). Returns the event id, or `undefined` when off. */
  capture(error: unknown, request?: FastifyRequest): string | undefined
  /** Waits up to `timeoutMs` (default `flushTimeoutMs`) for pending events; false when some are still pending. */
  flush(timeoutMs?: number): Promise<boolean>
}

declare module 'fastify' {
  interface FastifyInstance {
    errorReports: ErrorReportsApi
  }
}

/** Marks this plugin's `uncaughtException` listeners: another instance's is not "someone else keeping the process alive". */
const OURS = Symbol.for('@opskit/error-reports.listener')

function statusOf(error: FastifyError & { status?: number }): number {
  const status = error.statusCode ?? error.status
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500
}

function bounded<T>(work: PromiseLike<T>, timeoutMs: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), timeoutMs)
    timer.unref()
  })
  return Promise.race([Promise.resolve(work).catch(() => fallback), deadline]).finally(() => clearTimeout(timer))
}

const errorReportsPlugin: FastifyPluginAsync<OpskitErrorReportsOptions> = async (fastify, opts) => {
  const options = resolveOptions(opts)
  const log = fastify.log.child({ logger: 'error-reports' })
  if (options.dsn === undefined) {
    log.info('@opskit/error-reports: no SENTRY_DSN, error reports are off')
    fastify.decorate('errorReports', { enabled: false, capture: () => undefined, flush: async () => true } satisfies ErrorReportsApi)
    return
  }

  // A client of our own, not Sentry.init(): no global hub, no OpenTelemetry setup, no
  // auto-instrumentation, so two Fastify instances (or the app's own Sentry) never share state.
  const client = new NodeClient({
    dsn: options.dsn,
    environment: options.environment,
    release: options.release,
    sampleRate: options.sampleRate,
    tracesSampleRate: options.tracesSampleRate,
    integrations: [],
    transport: makeNodeTransport,
    stackParser: defaultStackParser,
    beforeSend: scrubEvent,
    sendClientReports: false,
    enableRuntimeChannelInjection: false,
  })

  function capture(error: unknown, request?: FastifyRequest): string {
    const scope = new Scope()
    scope.setClient(client)
    if (request !== undefined) {
      const context = getRequestContext()
      // trace_id arrives with core's trace context; until then it is simply absent.
      const traceId = (context as { traceId?: unknown } | undefined)?.traceId
      scope.setTags({
        request_id: request.id,
        route: request.routeOptions.url ?? 'unmatched',
        method: request.method,
        ...(typeof traceId === 'string' ? { trace_id: traceId } : {}),
        ...(request.actor?.id ? { 'user.id': request.actor.id } : {}),
      })
      if (request.actor?.id) scope.setUser({ id: request.actor.id })
      const path = request.url.split('?', 1)[0]
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string') headers[name] = value
      scope.addEventProcessor((event) => ({ ...event, request: { method: request.method, url: path, headers } }))
    }
    return client.captureException(error, { mechanism: { type: request === undefined ? 'onerror' : 'fastify', handled: request !== undefined } }, scope)
  }

  const api: ErrorReportsApi = {
    enabled: true,
    capture,
    flush: (timeoutMs = options.flushTimeoutMs) => bounded(client.flush(timeoutMs), timeoutMs + 100, false),
  }
  fastify.decorate('errorReports', api)

  fastify.addHook('onError', async (request, _reply, error) => {
    if (statusOf(error) >= 500) capture(error, request)
  })

  // Uncaught exceptions (and unhandled rejections, which Node turns into one): reported, then,
  // when no other listener would keep the process alive, it exits with code 1 as Node would have.
  const onUncaught = Object.assign((error: Error, origin: string): void => {
    capture(error)
    const others = process.listeners('uncaughtException').filter((l) => !(OURS in l))
    void bounded(client.flush(options.flushTimeoutMs), options.flushTimeoutMs + 100, false).then(() => {
      if (others.length > 0) return
      process.stderr.write(`${origin === 'unhandledRejection' ? 'Unhandled rejection' : 'Uncaught exception'}: ${error?.stack ?? String(error)}\n`)
      process.exit(1)
    })
  }, { [OURS]: true })
  if (options.uncaught) process.on('uncaughtException', onUncaught)

  fastify.addHook('onClose', async () => {
    process.off('uncaughtException', onUncaught)
    const sent = await bounded(client.close(options.flushTimeoutMs), options.flushTimeoutMs + 100, false)
    if (!sent) log.warn({ timeout_ms: options.flushTimeoutMs }, '@opskit/error-reports: closed with error reports still unsent')
  })
}

export const opskitErrorReports = fp(errorReportsPlugin, {
  fastify: '5.x',
  name: '@opskit/error-reports',
  dependencies: ['@opskit/core'],
})
export default opskitErrorReports
