import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, type Context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { RPCType, setRPCMetadata } from '@opentelemetry/core';
import { AlwaysOffSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { TRACE_RESPONSE_HEADER, traceResponse, traceResponseValue } from '../src/trace-response';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SERVER_SPAN = '00f067aa0ba902b7';
const CHILD_SPAN = 'b7ad6b7169203331';

const span = (spanId: string, traceFlags = TraceFlags.SAMPLED) =>
  trace.wrapSpanContext({ traceId: TRACE_ID, spanId, traceFlags });

/** Spans this process records and samples, as the SDK makes them. */
const recorder = new BasicTracerProvider().getTracer('test');

/** Runs the middleware in `ctx` and returns the header it set, if any. */
function headerIn(ctx: Context, tracingOn = true): string | undefined {
  const headers = new Map<string, string>();
  const res = { setHeader: (name: string, value: string) => headers.set(name, value) };
  let called = false;
  context.with(ctx, () =>
    traceResponse(() => tracingOn)(
      {} as IncomingMessage,
      res as unknown as ServerResponse,
      () => (called = true),
    ),
  );
  expect(called).toBe(true);
  return headers.get(TRACE_RESPONSE_HEADER);
}

describe('traceresponse', () => {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => context.setGlobalContextManager(manager.enable()));
  afterAll(() => {
    context.disable();
    manager.disable();
  });

  it('formats a span context as W3C Trace Context Level 2 does', () => {
    expect(traceResponseValue(span(SERVER_SPAN).spanContext())).toBe(`00-${TRACE_ID}-${SERVER_SPAN}-01`);
    expect(traceResponseValue(span(SERVER_SPAN, TraceFlags.NONE).spanContext())).toBe(
      `00-${TRACE_ID}-${SERVER_SPAN}-00`,
    );
    expect(
      traceResponseValue(
        trace.wrapSpanContext({ ...span(SERVER_SPAN).spanContext(), traceId: '0'.repeat(32) }).spanContext(),
      ),
    ).toBeUndefined();
  });

  it('names the HTTP server span, not the Express middleware span that is active', () => {
    const server = recorder.startSpan('GET /products');
    const child = recorder.startSpan('middleware', {}, trace.setSpan(context.active(), server));
    const ctx = setRPCMetadata(trace.setSpan(context.active(), server), { type: RPCType.HTTP, span: server });
    const { traceId, spanId } = server.spanContext();
    expect(headerIn(trace.setSpan(ctx, child))).toBe(`00-${traceId}-${spanId}-01`);
  });

  it('falls back to the active span, and sets nothing when there is none', () => {
    const active = recorder.startSpan('work');
    const { traceId, spanId } = active.spanContext();
    expect(headerIn(trace.setSpan(context.active(), active))).toBe(`00-${traceId}-${spanId}-01`);
    expect(headerIn(context.active())).toBeUndefined();
  });

  it('names nothing this service did not record: tracing off, a span not recorded or not sampled', () => {
    const recorded = trace.setSpan(context.active(), recorder.startSpan('work'));
    expect(headerIn(recorded, false)).toBeUndefined();
    // The caller's traceparent, sampled, as a context propagates it: this service recorded nothing.
    expect(headerIn(trace.setSpan(context.active(), span(CHILD_SPAN)))).toBeUndefined();
    const unsampled = new BasicTracerProvider({ sampler: new AlwaysOffSampler() })
      .getTracer('test')
      .startSpan('work');
    expect(headerIn(trace.setSpan(context.active(), unsampled))).toBeUndefined();
  });
});
