// The tracing layer of an execution environment. When the emulator's tracing is on, each environment
// loads it before the runtime (node --require), as the OpenTelemetry Lambda layer is loaded through
// AWS_LAMBDA_EXEC_WRAPPER (NODE_OPTIONS=--require). The emulator bundles it once at start, as it
// bundles the functions, so a cold start loads one file. It records the function's own spans (the
// code's, and a CLIENT span per HTTP call, the AWS SDK's included) under the invocation span the
// platform recorded, whose context Lambda hands the runtime in _X_AMZN_TRACE_ID (X-Ray's trace
// header), and exports them in batches, as the services do (OTEL_* variables).
import { context, defaultTextMapGetter, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createExporter } from '@twin/observability/exporters';
import { createPropagator } from '@twin/observability/propagation';
import { readTracingSettings } from '@twin/observability/settings';
import { traceHttpClientCalls } from './http-client-spans';
import { installInvocationHook } from './invocation-hook';

const env = process.env;
const functionName = env.AWS_LAMBDA_FUNCTION_NAME ?? '';
const settings = readTracingSettings(functionName, env);

if (settings.exporter !== 'none') {
  // The resource OpenTelemetry's AWS Lambda detector gives an environment (faas.max_memory in bytes).
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': settings.serviceName,
      'cloud.provider': 'aws',
      'cloud.platform': 'aws_lambda',
      'cloud.region': env.AWS_REGION ?? '',
      'faas.name': functionName,
      'faas.version': env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
      'faas.instance': env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
      'faas.max_memory': Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 128) * 1024 * 1024,
    }),
    spanProcessors: [new BatchSpanProcessor(createExporter(settings.exporter))],
  });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  // Code that continues a trace carried in data (a thumbnail's upload, in the object's metadata)
  // reads it with the project's propagators, as in the services.
  propagation.setGlobalPropagator(createPropagator(settings.propagators));
  traceHttpClientCalls(provider.getTracer('@twin/lambda/tracing-layer'), env.AWS_LAMBDA_RUNTIME_API);
  const xray = new AWSXRayPropagator();
  installInvocationHook((run) => {
    const header = process.env._X_AMZN_TRACE_ID;
    const parent = header
      ? xray.extract(ROOT_CONTEXT, { 'x-amzn-trace-id': header }, defaultTextMapGetter)
      : ROOT_CONTEXT;
    return context.with(parent, run);
  });
}
