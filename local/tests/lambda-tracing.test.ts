import { encodeEventKey } from '@twin/thumbnails';
import type { JaegerResponse, JaegerSpan, JaegerTrace } from '../../services/frontend/web/api-types';
import { sampleImage } from '../../packages/thumbnails/tests/fixtures';
import { thumbnailOf } from '../../tests/support/images';
import { startTestStack } from '../../tests/support/stack';
import type { Stack } from '../src';

// The serverless twin in npm start's trace store, through the real processes: the launcher's store,
// the emulator's platform spans, and the tracing layer inside each execution environment.

const WAIT_MS = 60_000;

describe('npm start: the Lambda emulator sends its traces to the local trace store', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startTestStack({
      thumbnails: 'lambda',
      traceStorePort: 0,
      env: { OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
  }, 90_000);
  afterAll(() => stack?.stop());

  const jaeger = () => stack.url('jaeger');
  const tag = (span: JaegerSpan, key: string) => span.tags.find((entry) => entry.key === key)?.value;

  /** The trace `traceId` from Jaeger's API once `complete` says it holds what the test needs. */
  async function traceOnceComplete(traceId: string, complete: (trace: JaegerTrace) => boolean) {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const response = await fetch(`${jaeger()}/api/traces/${traceId}`);
      const trace = response.ok
        ? ((await response.json()) as JaegerResponse<JaegerTrace[]>).data[0]
        : undefined;
      if (trace && complete(trace)) return trace;
      if (Date.now() > deadline)
        throw new Error(
          `trace ${traceId} incomplete: ${JSON.stringify(trace?.spans.map((s) => s.operationName))}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const serviceOf = (trace: JaegerTrace, span: JaegerSpan) => trace.processes[span.processID]?.serviceName;
  const spanOf = (trace: JaegerTrace, service: string, operation: string | RegExp) =>
    trace.spans.find(
      (span) =>
        serviceOf(trace, span) === service &&
        (typeof operation === 'string'
          ? span.operationName === operation
          : operation.test(span.operationName)),
    );

  it('shows a request to the emulated API as API Gateway -> the function -> its DynamoDB call', async () => {
    const traceId = 'd0000000000000000000000000000004';
    const response = await fetch(`${stack.url('lambda')}/Prod/products?limit=1`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902bb-01` },
    });
    expect(response.status).toBe(200);

    const trace = await traceOnceComplete(
      traceId,
      (found) =>
        spanOf(found, 'api-gateway', 'GET /products') !== undefined &&
        spanOf(found, 'ProductsFunction', 'ProductsFunction') !== undefined &&
        spanOf(found, 'ProductsFunction', 'DynamoDB.Query') !== undefined,
    );
    const gateway = spanOf(trace, 'api-gateway', 'GET /products')!;
    const invocation = spanOf(trace, 'ProductsFunction', 'ProductsFunction')!;
    const call = spanOf(trace, 'ProductsFunction', 'DynamoDB.Query')!;
    expect(invocation.references).toContainEqual({
      refType: 'CHILD_OF',
      traceID: traceId,
      spanID: gateway.spanID,
    });
    expect(call.references).toContainEqual({
      refType: 'CHILD_OF',
      traceID: traceId,
      spanID: invocation.spanID,
    });
    expect(tag(invocation, 'faas.trigger')).toBe('http');
    expect(tag(invocation, 'faas.invocation_id')).toEqual(expect.any(String));
    expect(tag(call, 'rpc.service')).toBe('DynamoDB');
    expect(tag(call, 'rpc.method')).toBe('Query');
    // The store's HTTP request is the call itself, not a span of its own.
    expect(spanOf(trace, 'ProductsFunction', 'POST')).toBeUndefined();
  }, 90_000);

  it("joins the Lambda imageProcessor's thumbnail to the upload's trace, linked to its invocation", async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(await sampleImage('jpeg'))]), 'traced lambda.jpg');
    const upload = await fetch(`${stack.url('frontend')}/api/images`, { method: 'POST', body: form });
    expect(upload.status).toBe(201);
    const { id, key } = (await upload.json()) as { id: string; key: string };
    const uploadTrace = /^00-([0-9a-f]{32})-/.exec(upload.headers.get('traceresponse') ?? '')?.[1];
    expect(uploadTrace).toBeDefined();
    await thumbnailOf(stack.url('frontend'), id, WAIT_MS);

    const trace = await traceOnceComplete(uploadTrace!, (found) =>
      found.spans.some(
        (span) =>
          serviceOf(found, span) === 'ImageProcessorFunction' &&
          span.operationName === 'create thumbnail' &&
          tag(span, 'aws.s3.key') === key,
      ),
    );
    const thumbnail = trace.spans.find((span) => span.operationName === 'create thumbnail')!;
    expect(tag(thumbnail, 'thumbnail.outcome')).toBe('created');
    // Its parent is in the upload's trace (the context the frontend stored in the object's metadata)...
    expect(thumbnail.references.find((ref) => ref.refType === 'CHILD_OF')?.traceID).toBe(uploadTrace);
    // ...and it links the invocation that made it: S3's event, a trace of its own.
    const link = thumbnail.references.find((ref) => ref.refType === 'FOLLOWS_FROM');
    expect(link).toBeDefined();
    expect(link!.traceID).not.toBe(uploadTrace);
    const delivery = await traceOnceComplete(link!.traceID, (found) =>
      found.spans.some((span) => span.spanID === link!.spanID),
    );
    const invocation = delivery.spans.find((span) => span.spanID === link!.spanID)!;
    expect(serviceOf(delivery, invocation)).toBe('ImageProcessorFunction');
    expect(invocation.operationName).toBe('ImageProcessorFunction');
    expect(tag(invocation, 'faas.trigger')).toBe('datasource');
    // The key as the S3 event carries it, URL-encoded.
    expect(tag(invocation, 'faas.document.name')).toBe(encodeEventKey(key));
    expect(String(tag(invocation, 'aws.lambda.invoked_arn'))).toMatch(
      /:function:ImageProcessorFunction:live$/,
    );
  }, 120_000);
});
