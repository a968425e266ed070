// Bench server `otel-undici` of the `outbound` group: OpenTelemetry's undici instrumentation (a
// client span per fetch, traceparent propagated) under the Node tracer provider, spans batched to
// an exporter that drops them (the export itself is not measured). No @opskit/outbound.
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { outboundServer } from './outbound-shared.js'

const dropExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} }
const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropExporter)] })
provider.register()
const instrumentation = new UndiciInstrumentation()
instrumentation.setTracerProvider(provider)
instrumentation.enable()

await outboundServer('otel-undici')
