import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createExporter } from './exporters';
import { createPropagator } from './propagation';
import { readTracingSettings } from './settings';

let sdk: NodeSDK | undefined;

const HEALTH_PATHS = new Set(['/healthz', '/readyz']);

export interface TracingOptions {
  /**
   * Incoming requests whose path starts with one of these get no span, nor do the calls made while
   * serving them (e.g. a route that reads traces: reading them must not make new ones).
   */
  untracedPathPrefixes?: string[];
}

/**
 * Starts the OpenTelemetry NodeSDK for this process. Call it before express, http or the AWS SDK are
 * loaded (`node --require ./dist/instrumentation.js`), or their spans silently go missing.
 */
export function startTracing(
  defaultServiceName: string,
  env = process.env,
  options: TracingOptions = {},
): void {
  if (sdk) return;
  const settings = readTracingSettings(defaultServiceName, env);
  sdk = new NodeSDK({
    serviceName: settings.serviceName,
    textMapPropagator: createPropagator(settings.propagators),
    spanProcessors:
      settings.exporter === 'none' ? [] : [new BatchSpanProcessor(createExporter(settings.exporter))],
    // Traces only: logs go to stdout through pino, and metrics are not this project's subject.
    // Left unset, the SDK would add OTLP exporters for both and wait on them at shutdown.
    metricReaders: [],
    logRecordProcessors: [],
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
  sdk.start();
}

/** Flushes pending spans and stops the SDK; a no-op when tracing was never started. */
export async function shutdownTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  await running?.shutdown();
}
