import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ConsoleSpanExporter, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TracesExporter } from './settings';

/**
 * The span exporter OTEL_TRACES_EXPORTER names: OTLP/HTTP JSON (it reads OTEL_EXPORTER_OTLP_ENDPOINT
 * and OTEL_EXPORTER_OTLP_TRACES_ENDPOINT itself), the console, or Jaeger's deprecated exporter (loaded
 * only when asked for: it cannot be bundled; it reads OTEL_EXPORTER_JAEGER_* itself).
 */
export function createExporter(kind: Exclude<TracesExporter, 'none'>): SpanExporter {
  switch (kind) {
    case 'otlp':
      return new OTLPTraceExporter();
    case 'console':
      return new ConsoleSpanExporter();
    case 'jaeger': {
      const { JaegerExporter } =
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require('@opentelemetry/exporter-jaeger') as typeof import('@opentelemetry/exporter-jaeger');
      return new JaegerExporter() as unknown as SpanExporter;
    }
  }
}
