import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { context, type Span, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';

/**
 * A CLIENT span for each HTTP request made inside a traced invocation (OpenTelemetry's HTTP client
 * semantic conventions: named by the method, with url.full, server.address and port, the status,
 * error.type), read from Node's built-in `http.client.*` diagnostics channels; the span ends when
 * the response has been read (or destroyed). A bundled function's AWS SDK calls show up so: esbuild
 * has inlined the SDK, which the AWS SDK instrumentation can then no longer patch, exactly as with
 * the OpenTelemetry Lambda layer on a bundled function. Written here rather than loading
 * @opentelemetry/instrumentation-http, which costs tens of milliseconds more on every cold start.
 * Requests outside an invocation's trace (the runtime's own calls to `ignoreHost`, the exporter's) get
 * no span.
 */
export function traceHttpClientCalls(tracer: Tracer, ignoreHost?: string): void {
  const spans = new WeakMap<ClientRequest, Span>();
  const finish = (request: ClientRequest, end: (span: Span) => void) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    end(span);
    span.end();
  };
  diagnostics.subscribe('http.client.request.start', (message) => {
    const { request } = message as { request: ClientRequest };
    const active = context.active();
    const host = String(request.getHeader('host') ?? request.host);
    if (!trace.getSpan(active) || isTracingSuppressed(active) || host === ignoreHost) return;
    const url = new URL(`${request.protocol}//${host}${request.path}`);
    const span = tracer.startSpan(
      request.method,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': request.method,
          'url.full': url.href,
          'server.address': url.hostname,
          'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        },
      },
      active,
    );
    spans.set(request, span);
  });
  diagnostics.subscribe('http.client.response.finish', (message) => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    response.once('close', () =>
      finish(request, (span) => {
        const status = response.statusCode ?? 0;
        span.setAttribute('http.response.status_code', status);
        if (status >= 400) {
          span.setAttribute('error.type', String(status));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }),
    );
  });
  diagnostics.subscribe('http.client.request.error', (message) => {
    const { request, error } = message as { request: ClientRequest; error: NodeJS.ErrnoException };
    finish(request, (span) => {
      span.setAttribute('error.type', error.code ?? error.name);
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    });
  });
}
