import type { JaegerKeyValue, JaegerSpan, JaegerTrace } from '../web/api-types';
import { buildWaterfall, formatDuration, linkedTraceIds, summarizeTrace } from '../web/trace-model';

const UPLOAD = 'a'.repeat(32);
const EVENT = 'b'.repeat(32);

function span(
  traceID: string,
  spanID: string,
  startTime: number,
  duration: number,
  extra: Partial<JaegerSpan> = {},
): JaegerSpan {
  return {
    traceID,
    spanID,
    operationName: spanID,
    references: [],
    startTime,
    duration,
    tags: [],
    logs: [],
    processID: 'p1',
    warnings: null,
    ...extra,
  };
}
const childOf = (traceID: string, spanID: string) => ({ refType: 'CHILD_OF' as const, traceID, spanID });

/** The upload's trace: the frontend's POST, its PutObject, and the thumbnail that links to the event delivery. */
const upload: JaegerTrace = {
  traceID: UPLOAD,
  spans: [
    span(UPLOAD, 'thumbnail', 1_150, 100, {
      processID: 'p2',
      references: [childOf(UPLOAD, 'post'), { refType: 'FOLLOWS_FROM', traceID: EVENT, spanID: 'events' }],
      tags: [{ key: 'error', type: 'bool', value: true }],
    }),
    span(UPLOAD, 'put', 1_010, 30, { references: [childOf(UPLOAD, 'post')] }),
    span(UPLOAD, 'post', 1_000, 50),
  ],
  processes: {
    p1: { serviceName: 'frontend', tags: [] },
    p2: { serviceName: 'thumbnailer', tags: [] },
  },
  warnings: null,
};
/** The event delivery's trace: the thumbnailer's POST /events and its S3 call. */
const event: JaegerTrace = {
  traceID: EVENT,
  spans: [
    span(EVENT, 'events', 1_100, 200),
    span(EVENT, 'head', 1_120, 10, { references: [childOf(EVENT, 'events')] }),
  ],
  processes: { p1: { serviceName: 'thumbnailer', tags: [] } },
  warnings: null,
};

describe('the Traces view model', () => {
  it('names a trace that came in through a proxy by the request the application saw, and the proxy', () => {
    const T = 'c'.repeat(32);
    const proxy: JaegerKeyValue[] = [{ key: 'component', type: 'string', value: 'proxy' }];
    const throughGateway: JaegerTrace = {
      traceID: T,
      spans: [
        span(T, 'gateway', 1_000, 90, {
          processID: 'p1',
          operationName: 'frontend.mesh-demo.svc.cluster.local:80/*',
          tags: proxy,
        }),
        span(T, 'inbound', 1_010, 70, {
          processID: 'p2',
          operationName: 'frontend.mesh-demo.svc.cluster.local:80/*',
          tags: proxy,
          references: [childOf(T, 'gateway')],
        }),
        span(T, 'server', 1_020, 50, {
          processID: 'p3',
          operationName: 'GET /api/version',
          references: [childOf(T, 'inbound')],
        }),
        span(T, 'client', 1_030, 30, {
          processID: 'p3',
          operationName: 'GET',
          references: [childOf(T, 'server')],
        }),
      ],
      processes: {
        p1: { serviceName: 'istio-ingressgateway.istio-system', tags: [] },
        p2: { serviceName: 'frontend.mesh-demo', tags: [] },
        p3: { serviceName: 'frontend', tags: [] },
      },
      warnings: null,
    };
    expect(summarizeTrace(throughGateway)).toMatchObject({
      rootService: 'istio-ingressgateway.istio-system',
      entry: { service: 'frontend', operation: 'GET /api/version' },
    });
    // A root of the application's own has no entry of its own.
    expect(summarizeTrace(upload).entry).toBeUndefined();
  });

  it('summarizes a trace by its root span: service, operation, duration, spans, errors', () => {
    expect(summarizeTrace(upload)).toEqual({
      traceId: UPLOAD,
      rootService: 'frontend',
      rootOperation: 'post',
      startUs: 1_000,
      durationUs: 250,
      spans: 3,
      errors: 1,
      services: ['thumbnailer', 'frontend'],
    });
  });

  it('nests spans under their parents, children by start time, on one time axis', () => {
    const waterfall = buildWaterfall(upload);
    expect(waterfall.rows.map((row) => [row.span.spanID, row.depth, row.service])).toEqual([
      ['post', 0, 'frontend'],
      ['put', 1, 'frontend'],
      ['thumbnail', 1, 'thumbnailer'],
    ]);
    expect(waterfall.rows.map((row) => [row.offsetPct, row.widthPct])).toEqual([
      [0, 20],
      [4, 12],
      [60, 40],
    ]);
    expect(waterfall.rows.map((row) => row.error)).toEqual([false, false, true]);
    expect(waterfall.missingLinks).toEqual([EVENT]);
  });

  it('follows links: the linked trace is nested under the span that links to it, and the axis covers both', () => {
    expect(linkedTraceIds(upload)).toEqual([EVENT]);
    const waterfall = buildWaterfall(upload, [event]);
    expect(waterfall.rows.map((row) => [row.span.spanID, row.depth, row.linkedTrace])).toEqual([
      ['post', 0, undefined],
      ['put', 1, undefined],
      ['thumbnail', 1, undefined],
      ['events', 2, EVENT],
      ['head', 3, EVENT],
    ]);
    expect([waterfall.startUs, waterfall.durationUs]).toEqual([1_000, 300]);
    expect(waterfall.services).toEqual(['frontend', 'thumbnailer']);
    expect(waterfall.missingLinks).toEqual([]);
  });

  it('shows spans whose parent is missing as roots, and survives a reference cycle', () => {
    const orphan: JaegerTrace = {
      ...event,
      spans: [
        span(EVENT, 'x', 10, 5, { references: [childOf(EVENT, 'y')] }),
        span(EVENT, 'y', 12, 5, { references: [childOf(EVENT, 'x')] }),
        span(EVENT, 'z', 11, 5, { references: [childOf(EVENT, 'gone')] }),
      ],
    };
    expect(buildWaterfall(orphan).rows.map((row) => [row.span.spanID, row.depth])).toEqual([
      ['z', 0],
      ['x', 0],
      ['y', 1],
    ]);
    expect(summarizeTrace(orphan).rootOperation).toBe('z');
  });

  it.each([
    [850, '850 µs'],
    [1_234, '1.23 ms'],
    [41_230, '41.2 ms'],
    [1_250_000, '1.25 s'],
  ])('writes %i µs as %s', (us, text) => {
    expect(formatDuration(us)).toBe(text);
  });
});
