import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, isSpanContextValid, type SpanContext, trace } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';

/**
 * W3C Trace Context Level 2 response header: tells the caller which trace its request joined, so
 * a browser (or curl) can link straight to it in Jaeger.
 */
export const TRACE_RESPONSE_HEADER = 'traceresponse';

/** `00-<trace id>-<span id>-<flags>`, or undefined for an invalid (untraced) context. */
export function traceResponseValue(spanContext: SpanContext): string | undefined {
  if (!isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

/**
 * Middleware: sets `traceresponse` to this service's server span. The HTTP instrumentation's span is
 * the one Jaeger shows for the request (the active span may be an Express middleware's child).
 */
export function traceResponse() {
  return (_req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const active = context.active();
    const rpc = getRPCMetadata(active);
    const span = rpc?.type === RPCType.HTTP ? rpc.span : trace.getSpan(active);
    const value = span && traceResponseValue(span.spanContext());
    if (value) res.setHeader(TRACE_RESPONSE_HEADER, value);
    next();
  };
}
