import type { FastifyPluginCallback } from 'fastify'
import type { OpskitConfig } from './config.js'

/** What the suite starts for `ENABLE_OPENTELEMETRY=true`: the `@fastify/otel` plugin and the SDK's shutdown. */
export interface OpenTelemetryTracing {
  /** `@fastify/otel`'s plugin, bound to this tracer provider; registered before every opskit part. */
  plugin: FastifyPluginCallback
  /** Flushes the spans not exported yet and stops the exporter (run by `fastify.close()`). */
  shutdown(): Promise<void>
}

/**
 * Starts OpenTelemetry tracing for one opskit instance: a tracer provider (service name and
 * version from `APP_NAME` / `APP_VERSION`) exporting through a batch processor over OTLP/HTTP
 * (protobuf) to `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`, and `@fastify/otel` on that provider, so
 * each request gets a SERVER span whose ids `@opskit/core` puts on every line. The process-wide
 * parts are registered only when nothing is yet: an `AsyncLocalStorage` context manager, the W3C
 * `traceparent` propagator (an incoming trace is continued) and the global tracer provider (your
 * own spans join the request's). No module is patched: `@fastify/otel` is a Fastify plugin, so the
 * SDK does not need to start before Fastify is imported.
 */
export async function startOpenTelemetry(config: OpskitConfig & { openTelemetry: { endpoint: string } }): Promise<OpenTelemetryTracing> {
  const [api, sdk, contextHooks, core, resources, exporterModule, fastifyOtel] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@fastify/otel'),
  ])
  const exporter = new exporterModule.OTLPTraceExporter({ url: `${config.openTelemetry.endpoint}/v1/traces` })
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': config.appName, 'service.version': config.appVersion }),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter })],
  })
  // Each returns false (and changes nothing) when the application registered its own first.
  api.context.setGlobalContextManager(new contextHooks.AsyncLocalStorageContextManager().enable())
  api.propagation.setGlobalPropagator(new core.W3CTraceContextPropagator())
  api.trace.setGlobalTracerProvider(provider)

  const { FastifyOtelInstrumentation } = fastifyOtel.default
  const instrumentation = new FastifyOtelInstrumentation()
  instrumentation.setTracerProvider(provider)
  return {
    plugin: instrumentation.plugin() as unknown as FastifyPluginCallback,
    shutdown: () => provider.shutdown(),
  }
}
