// A span per proxy hop, as Envoy's tracer makes them under Istio: the caller's sidecar records a
// client span, the callee's sidecar a server span, each a child of the span in the request's
// trace headers, which it then replaces with its own (W3C traceparent and B3 multi-header, the
// propagators the services use). x-request-id passes through untouched. Spans go over OTLP/HTTP
// to OTEL_EXPORTER_OTLP_ENDPOINT; without one nothing is recorded and the headers pass as they came.
import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

const propagator = new CompositePropagator({
  propagators: [
    new W3CTraceContextPropagator(),
    new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
  ],
});

/** Trace headers a hop sets on the request it forwards. */
const TRACE_HEADERS = [
  'traceparent',
  'tracestate',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'b3',
];

/** One hop's span; `end` records the outcome. */
export interface HopSpan {
  /** The request's headers with this hop's trace context in place of the caller's. */
  readonly headers: Record<string, string>;
  /** The trace id, for the access log; undefined when not tracing. */
  readonly traceparent?: string;
  end(status: number, attributes?: Record<string, string | number>): void;
}

const passThrough = (headers: Record<string, string>): HopSpan => ({
  headers,
  traceparent: headers.traceparent,
  end: () => undefined,
});

/** The tracer of one proxy; `service` is how Jaeger lists it (Istio: `<app>.<namespace>`). */
export class ProxyTracer {
  private readonly provider?: BasicTracerProvider;

  /** @param exporter where spans go; undefined: none are recorded. */
  constructor(
    readonly service: string,
    exporter: SpanExporter | undefined,
  ) {
    if (!exporter) return;
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
  }

  /**
   * Starts the hop's span as a child of the trace context in `headers`.
   * @param name Envoy's operation name, e.g. `backend.mesh-demo.svc.cluster.local:80/*`
   */
  start(
    kind: 'inbound' | 'outbound',
    name: string,
    headers: Record<string, string>,
    attributes: Record<string, string>,
  ): HopSpan {
    if (!this.provider) return passThrough(headers);
    const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const span: Span = this.provider.getTracer('local-data-plane').startSpan(
      name,
      {
        kind: kind === 'inbound' ? SpanKind.SERVER : SpanKind.CLIENT,
        attributes: { component: 'proxy', ...attributes },
      },
      parent,
    );
    const out = { ...headers };
    for (const header of TRACE_HEADERS) delete out[header];
    propagator.inject(trace.setSpan(context.active(), span), out, defaultTextMapSetter);
    return {
      headers: out,
      traceparent: out.traceparent,
      end: (status, more = {}) => {
        span.setAttributes({ 'http.status_code': status, ...more });
        if (status >= 500 || status === 0) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      },
    };
  }

  /** Sends what is still buffered. */
  async shutdown(): Promise<void> {
    await this.provider?.shutdown();
  }
}

/** The OTLP/HTTP exporter when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces one) is set and OTEL_TRACES_EXPORTER allows it. */
export function exporterFromEnv(env: NodeJS.ProcessEnv = process.env): SpanExporter | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || (env.OTEL_TRACES_EXPORTER && env.OTEL_TRACES_EXPORTER !== 'otlp')) return undefined;
  // The exporter reads the endpoint variables itself, as the services' does.
  return new OTLPTraceExporter();
}
