import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, type Context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { RPCType, setRPCMetadata } from '@opentelemetry/core';
import { TRACE_RESPONSE_HEADER, traceResponse, traceResponseValue } from '@twin/observability';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SERVER_SPAN = '00f067aa0ba902b7';
const CHILD_SPAN = 'b7ad6b7169203331';

const span = (spanId: string, traceFlags = TraceFlags.SAMPLED) =>
  trace.wrapSpanContext({ traceId: TRACE_ID, spanId, traceFlags });

/** Runs the middleware in `ctx` and returns the header it set, if any. */
function headerIn(ctx: Context): string | undefined {
  const headers = new Map<string, string>();
  const res = { setHeader: (name: string, value: string) => headers.set(name, value) };
  let called = false;
  context.with(ctx, () =>
    traceResponse()({} as IncomingMessage, res as unknown as ServerResponse, () => (called = true)),
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
    const server = span(SERVER_SPAN);
    const ctx = setRPCMetadata(trace.setSpan(context.active(), server), { type: RPCType.HTTP, span: server });
    expect(headerIn(trace.setSpan(ctx, span(CHILD_SPAN)))).toBe(`00-${TRACE_ID}-${SERVER_SPAN}-01`);
  });

  it('falls back to the active span, and sets nothing when there is none', () => {
    expect(headerIn(trace.setSpan(context.active(), span(CHILD_SPAN)))).toBe(
      `00-${TRACE_ID}-${CHILD_SPAN}-01`,
    );
    expect(headerIn(context.active())).toBeUndefined();
  });
});
