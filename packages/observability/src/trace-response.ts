import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, isSpanContextValid, type SpanContext, trace, TraceFlags } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { isTracingOn } from './tracing';

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
 * Middleware: sets `traceresponse` to this service's server span, and only to a span this service
 * records and exports: tracing on (`tracingOn`, by default whether startTracing set up an exporter),
 * the span recording and sampled. An unsampled caller, or tracing off, gets no header: a service
 * never names a trace or a span nobody can look up. The HTTP instrumentation's span is the one
 * Jaeger shows for the request (the active span may be an Express middleware's child).
 */
export function traceResponse(tracingOn: () => boolean = isTracingOn) {
  return (_req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const active = context.active();
    const rpc = getRPCMetadata(active);
    const span = rpc?.type === RPCType.HTTP ? rpc.span : trace.getSpan(active);
    const spanContext = span?.spanContext();
    const recorded =
      span !== undefined &&
      spanContext !== undefined &&
      tracingOn() &&
      span.isRecording() &&
      (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
    const value = recorded ? traceResponseValue(spanContext) : undefined;
    if (value) res.setHeader(TRACE_RESPONSE_HEADER, value);
    next();
  };
}
