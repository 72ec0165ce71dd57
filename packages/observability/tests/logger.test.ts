import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { Writable } from 'node:stream';
import { createLogger, forwardedHeaders, requestContext } from '@twin/observability';
import { currentRequestId } from '../src/request-context';

describe('createLogger', () => {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  beforeAll(() => context.setGlobalContextManager(contextManager));
  afterAll(() => context.disable());

  function capture() {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    return { lines, sink };
  }

  it('writes JSON lines carrying the active trace_id and span_id', () => {
    const { lines, sink } = capture();
    const logger = createLogger('backend', 'info', sink);
    const span = new BasicTracerProvider().getTracer('test').startSpan('work');
    context.with(trace.setSpan(context.active(), span), () => logger.info('inside'));
    logger.info('outside');
    span.end();

    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'backend',
      msg: 'inside',
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId,
      trace_flags: '01',
    });
    expect(new Date(String(lines[0]?.time)).toISOString()).toBe(lines[0]?.time);
    expect(lines[1]).toMatchObject({ msg: 'outside' });
    expect(lines[1]).not.toHaveProperty('trace_id');
  });

  it("carries the id of the request being served, the service's x-request-id", () => {
    const { lines, sink } = capture();
    const logger = createLogger('backend', 'info', sink);
    const req = { headers: { 'x-request-id': 'req-7' } } as unknown as Parameters<
      ReturnType<typeof requestContext>
    >[0];
    const res = { setHeader: () => undefined } as unknown as Parameters<ReturnType<typeof requestContext>>[1];
    requestContext()(req, res, () => logger.info('served'));
    logger.info('idle');
    expect(lines.map((line) => [line.msg, line.request_id])).toEqual([
      ['served', 'req-7'],
      ['idle', undefined],
    ]);
  });

  it('honours the level', () => {
    const { lines, sink } = capture();
    const logger = createLogger('backend', 'warn', sink);
    logger.info('hidden');
    logger.warn('shown');
    expect(lines.map((line) => line.msg)).toEqual(['shown']);
  });
});

describe('requestContext', () => {
  function run(headers: Record<string, string>) {
    const setHeaders: Record<string, string> = {};
    const req = { headers } as unknown as Parameters<ReturnType<typeof requestContext>>[0];
    const res = { setHeader: (k: string, v: string) => (setHeaders[k] = v) } as unknown as Parameters<
      ReturnType<typeof requestContext>
    >[1];
    let seen: { id?: string; forwarded: Record<string, string> } = { forwarded: {} };
    requestContext()(req, res, () => {
      seen = { id: currentRequestId(), forwarded: forwardedHeaders() };
    });
    return { seen, setHeaders };
  }

  it('keeps a caller-supplied x-request-id for outbound calls', () => {
    const { seen, setHeaders } = run({ 'x-request-id': 'abc-123' });
    expect(seen).toEqual({ id: 'abc-123', forwarded: { 'x-request-id': 'abc-123' } });
    expect(setHeaders['x-request-id']).toBe('abc-123');
  });

  it('makes one up when missing or unsafe', () => {
    expect(run({}).seen.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(run({ 'x-request-id': 'bad\nheader' }).seen.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(forwardedHeaders()).toEqual({});
  });
});
