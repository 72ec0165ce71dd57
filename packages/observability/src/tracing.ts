import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { createExporter } from './exporters';
import { createPropagator } from './propagation';
import { readTracingSettings } from './settings';

/** What startTracing registered, undone by shutdownTracing. */
interface Started {
  provider?: BasicTracerProvider;
  disableInstrumentations: () => void;
}
let started: Started | undefined;

const HEALTH_PATHS = new Set(['/healthz', '/readyz']);

export interface TracingOptions {
  /**
   * Incoming requests whose path starts with one of these get no span, nor do the calls made while
   * serving them (e.g. a route that reads traces: reading them must not make new ones).
   */
  untracedPathPrefixes?: string[];
}

/**
 * Starts tracing for this process: the propagators OTEL_PROPAGATORS names, the HTTP, Express,
 * undici and AWS SDK instrumentations, and a batch span processor with the exporter
 * OTEL_TRACES_EXPORTER names. Call it before express, http or the AWS SDK are loaded
 * (`node --require ./dist/instrumentation.js`), or their spans silently go missing.
 *
 * Composed from the SDK's parts as `@opentelemetry/sdk-node`'s NodeSDK composes them for traces
 * (same resource detectors, context manager, sampler and span limits from the environment; no
 * tracer provider when the exporter is `none`), without that package: it depends on every
 * exporter of traces, metrics and logs, which the images would carry unused.
 *
 * @throws TracingSettingsError when OTEL_TRACES_EXPORTER or OTEL_PROPAGATORS names something unknown.
 */
export function startTracing(
  defaultServiceName: string,
  env = process.env,
  options: TracingOptions = {},
): void {
  if (started) return;
  const settings = readTracingSettings(defaultServiceName, env);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(createPropagator(settings.propagators));
  let provider: BasicTracerProvider | undefined;
  if (settings.exporter !== 'none') {
    // The sampler (OTEL_TRACES_SAMPLER) and span limits come from the environment, read by the provider.
    provider = new BasicTracerProvider({
      resource: defaultResource()
        .merge(detectResources({ detectors: [envDetector, processDetector, hostDetector] }))
        .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName })),
      spanProcessors: [new BatchSpanProcessor(createExporter(settings.exporter))],
    });
    trace.setGlobalTracerProvider(provider);
  }
  const disableInstrumentations = registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        // Probes every few seconds would drown the traces people come to see.
        ignoreIncomingRequestHook: (request) => {
          const path = (request.url ?? '').split('?')[0] ?? '';
          return (
            HEALTH_PATHS.has(path) ||
            (options.untracedPathPrefixes ?? []).some((prefix) => path.startsWith(prefix))
          );
        },
      }),
      // No layer spans: recording and exporting spans is most of tracing's cost, and a span per
      // middleware, router or request handler says little the server span does not. The route still
      // names the server span (`GET /api/products`): the instrumentation sets it before it skips a layer.
      new ExpressInstrumentation({
        ignoreLayersType: [
          ExpressLayerType.MIDDLEWARE,
          ExpressLayerType.ROUTER,
          ExpressLayerType.REQUEST_HANDLER,
        ],
      }),
      new UndiciInstrumentation(),
      new AwsInstrumentation({ suppressInternalInstrumentation: true }),
    ],
  });
  started = { provider, disableInstrumentations };
}

/**
 * Whether this process's spans go anywhere: startTracing ran with an exporter. With
 * OTEL_TRACES_EXPORTER=none trace context is still propagated to the calls a request makes (so a
 * mesh's proxies can continue the trace), but nothing is recorded that anyone can look up.
 */
export function isTracingOn(): boolean {
  return started?.provider !== undefined;
}

/** Flushes pending spans and stops tracing; a no-op when tracing was never started. */
export async function shutdownTracing(): Promise<void> {
  const running = started;
  started = undefined;
  running?.disableInstrumentations();
  await running?.provider?.shutdown();
}
