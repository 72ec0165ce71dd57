import { PutObjectCommand } from '@aws-sdk/client-s3';
import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ThumbnailProcessor, traceMetadata } from '../src';
import { THUMBNAIL_SPAN_NAME } from '../src/tracing';
import { BUCKET, s3Event, sampleImage, startObjectStore, type ObjectStore } from './fixtures';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
let store: ObjectStore;

const UPLOAD_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const UPLOAD_SPAN_ID = '00f067aa0ba902b7';

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  store = await startObjectStore();
});

afterAll(async () => {
  await store.close();
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});

beforeEach(() => exporter.reset());

async function upload(key: string, metadata: Record<string, string>): Promise<void> {
  const body = await sampleImage('jpeg');
  await store.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: metadata }));
}

describe('thumbnail spans', () => {
  it("continue the upload's trace from the traceparent in the object's metadata", async () => {
    const key = 'uploads/traced/photo.jpg';
    await upload(key, {
      traceparent: `00-${UPLOAD_TRACE_ID}-${UPLOAD_SPAN_ID}-01`,
      tracestate: 'vendor=value',
    });

    await new ThumbnailProcessor(store.s3).process(s3Event(key));

    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe(THUMBNAIL_SPAN_NAME);
    expect(span?.attributes['aws.s3.key']).toBe(key);
    expect(span?.spanContext().traceId).toBe(UPLOAD_TRACE_ID);
    expect(span?.spanContext().traceState?.get('vendor')).toBe('value');
    expect(span?.parentSpanContext).toMatchObject({
      traceId: UPLOAD_TRACE_ID,
      spanId: UPLOAD_SPAN_ID,
      isRemote: true,
    });
    expect(span?.attributes).toMatchObject({
      'aws.s3.bucket': BUCKET,
      'aws.s3.key': key,
      'thumbnail.key': 'thumbnails/traced/photo.jpg',
      'thumbnail.outcome': 'created',
    });
    expect(span?.attributes['thumbnail.source.size']).toBeGreaterThan(0);
  });

  it('link the active span (the incoming request) when the upload has its own trace', async () => {
    const key = 'uploads/linked/photo.jpg';
    await upload(key, { traceparent: `00-${UPLOAD_TRACE_ID}-${UPLOAD_SPAN_ID}-01` });
    const tracer = trace.getTracer('test');

    const requestSpanContext = await tracer.startActiveSpan('POST /events', async (request) => {
      await new ThumbnailProcessor(store.s3).process(s3Event(key));
      request.end();
      return request.spanContext();
    });

    const span = exporter
      .getFinishedSpans()
      .find(({ name, attributes }) => name === THUMBNAIL_SPAN_NAME && attributes['aws.s3.key'] === key);
    expect(span?.spanContext().traceId).toBe(UPLOAD_TRACE_ID);
    expect(span?.links.map((link) => link.context.spanId)).toEqual([requestSpanContext.spanId]);
  });

  it('are children of the active span when the upload carries no trace context', async () => {
    const key = 'uploads/untraced/photo.jpg';
    await upload(key, {});
    const tracer = trace.getTracer('test');

    const requestSpanContext = await tracer.startActiveSpan('POST /events', async (request) => {
      await new ThumbnailProcessor(store.s3).process(s3Event(key));
      request.end();
      return request.spanContext();
    });

    const span = exporter
      .getFinishedSpans()
      .find(({ name, attributes }) => name === THUMBNAIL_SPAN_NAME && attributes['aws.s3.key'] === key);
    expect(span?.parentSpanContext?.spanId).toBe(requestSpanContext.spanId);
    expect(span?.links).toEqual([]);
  });

  it('record a permanent failure with its reason', async () => {
    const key = 'uploads/traced-bad/file.jpg';
    await store.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'not an image' }));

    await new ThumbnailProcessor(store.s3).process(s3Event(key));

    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes).toMatchObject({
      'thumbnail.outcome': 'failed',
      'thumbnail.reason': 'unsupported-format',
    });
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('traceMetadata', () => {
  it('carries the active span as traceparent, and nothing without one', () => {
    expect(traceMetadata()).toEqual({});
    const span = trace.getTracer('test').startSpan('upload');
    const metadata = context.with(trace.setSpan(context.active(), span), () => traceMetadata());
    span.end();
    const { traceId, spanId } = span.spanContext();
    expect(metadata).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });
  });
});
