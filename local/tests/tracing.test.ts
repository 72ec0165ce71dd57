import { sampleImage } from '../../packages/thumbnails/tests/fixtures';
import { startOtlpReceiver } from '../../tests/support/otlp-receiver';
import type { Stack } from '../src';
import { startTestStack } from '../../tests/support/stack';

const SERVER = 2;
const CLIENT = 3;

describe('one trace across frontend -> backend -> DynamoDB (real child processes)', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let stack: Stack;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    stack = await startTestStack({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  it('links the spans of a create into one trace', async () => {
    const response = await fetch(`${stack.url('frontend')}/api/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"Traced laptop","price":10}',
    });
    expect(response.status).toBe(201);

    const chain = await receiver.waitFor((spans) => {
      const frontendServer = spans.find(
        (s) =>
          s.service === 'frontend' && s.kind === SERVER && s.attributes['http.route'] === '/api/products',
      );
      if (!frontendServer) return undefined;
      const inTrace = spans.filter((s) => s.traceId === frontendServer.traceId);
      const backendServer = inTrace.find((s) => s.service === 'backend' && s.kind === SERVER);
      const dynamoCall = inTrace.find(
        (s) => s.service === 'backend' && s.kind === CLIENT && /DynamoDB/.test(s.name),
      );
      if (!backendServer || !dynamoCall) return undefined;
      return { inTrace, frontendServer, backendServer, dynamoCall };
    });

    const byId = new Map(chain.inTrace.map((s) => [s.spanId, s]));
    const ancestors = (span: { parentSpanId?: string }) => {
      const found: string[] = [];
      for (let parent = span.parentSpanId; parent; parent = byId.get(parent)?.parentSpanId)
        found.push(parent);
      return found;
    };
    // The backend's server span descends from the frontend's outbound call, which descends from
    // the frontend's server span; the DynamoDB call descends from the backend's server span.
    const frontendClient = byId.get(chain.backendServer.parentSpanId ?? '');
    expect(frontendClient).toMatchObject({ service: 'frontend', kind: CLIENT });
    expect(ancestors(frontendClient!)).toContain(chain.frontendServer.spanId);
    expect(ancestors(chain.dynamoCall)).toContain(chain.backendServer.spanId);
    expect(chain.dynamoCall.name).toMatch(/PutItem/);
    expect(chain.frontendServer.parentSpanId).toBeUndefined();
  }, 30_000);

  it('continues a trace started by the caller (the mesh, a browser)', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await fetch(`${stack.url('frontend')}/api/version`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    const backendServer = await receiver.waitFor((spans) =>
      spans.find((s) => s.traceId === traceId && s.service === 'backend' && s.kind === SERVER),
    );
    expect(backendServer.attributes['http.route']).toBe('/version');
  }, 30_000);

  it('carries the upload trace through the object store event to the thumbnail', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(await sampleImage('jpeg'))]), 'traced.jpg');
    const response = await fetch(`${stack.url('frontend')}/api/images`, { method: 'POST', body: form });
    expect(response.status).toBe(201);
    const { key } = (await response.json()) as { key: string };

    const { upload, thumbnail } = await receiver.waitFor((spans) => {
      const upload = spans.find(
        (s) => s.service === 'frontend' && s.kind === SERVER && s.attributes['http.route'] === '/api/images',
      );
      const thumbnail = spans.find((s) => s.service === 'thumbnailer' && s.attributes['aws.s3.key'] === key);
      return upload && thumbnail ? { upload, thumbnail } : undefined;
    });
    expect(thumbnail.name).toBe('create thumbnail');
    expect(thumbnail.traceId).toBe(upload.traceId);
    expect(thumbnail.attributes['thumbnail.outcome']).toBe('created');
  }, 30_000);
});
