/** Tracing settings from the standard OpenTelemetry environment variables. */
export type TracesExporter = 'otlp' | 'jaeger' | 'console' | 'none';
export type PropagatorName = 'tracecontext' | 'baggage' | 'b3' | 'b3multi';

export interface TracingSettings {
  serviceName: string;
  exporter: TracesExporter;
  propagators: PropagatorName[];
}

const EXPORTERS: readonly TracesExporter[] = ['otlp', 'jaeger', 'console', 'none'];
const PROPAGATORS: readonly PropagatorName[] = ['tracecontext', 'baggage', 'b3', 'b3multi'];
// OpenTelemetry's default. The mesh's proxies send W3C trace context (Istio's and the compose Envoys'
// OpenTelemetry tracer, the local data plane), so B3 is for Zipkin-style proxies, asked for with
// OTEL_PROPAGATORS (k8s/tracing does): reading and writing both costs every traced request twice.
const DEFAULT_PROPAGATORS = 'tracecontext,baggage';

export class TracingSettingsError extends Error {
  override name = 'TracingSettingsError';
}

function oneOf<T extends string>(variable: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new TracingSettingsError(`${variable}: '${value}' is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function readTracingSettings(defaultServiceName: string, env = process.env): TracingSettings {
  const exporter = oneOf('OTEL_TRACES_EXPORTER', (env.OTEL_TRACES_EXPORTER || 'otlp').trim(), EXPORTERS);
  const propagators = (env.OTEL_PROPAGATORS || DEFAULT_PROPAGATORS)
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name && name !== 'none')
    .map((name) => oneOf('OTEL_PROPAGATORS', name, PROPAGATORS));
  return { serviceName: env.OTEL_SERVICE_NAME || defaultServiceName, exporter, propagators };
}
