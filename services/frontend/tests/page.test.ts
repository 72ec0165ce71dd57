import request from 'supertest';
import { createLogger } from '@twin/observability';
import { createFrontendApp } from '../src/app';
import { BackendClient } from '../src/backend-client';
import { readFrontendConfig } from '../src/config';
import { ImageStore } from '../src/image-store';
import type { PageOptions } from '../src/page-routes';
import type { TraceQueryOptions } from '../src/trace-query-routes';
import { startTraceServer, type TraceServer } from '../../../local/src/traces';
import { s3Client } from '../../../packages/thumbnails/tests/fixtures';

const logger = createLogger('frontend-test', 'silent');

/** The page needs neither the backend nor the object store: both point at closed ports. */
function frontend(page?: PageOptions, traceQuery?: TraceQueryOptions) {
  return createFrontendApp({
    backend: new BackendClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 200 }),
    images: new ImageStore(s3Client('http://127.0.0.1:9', 1), 'images'),
    uploadLimits: { maxBytes: 1024, maxPixels: 1024 },
    version: '1.0.0',
    logger,
    storeReady: async () => undefined,
    page,
    traceQuery,
  });
}

describe('the web page', () => {
  it('is served at / under helmet CSP, which allows only same-origin scripts', async () => {
    const response = await request(frontend()).get('/').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("script-src-attr 'none'");
    expect(response.text).toContain('<script type="module" src="/js/main.js"></script>');
    expect(response.text).toContain('<script src="/vendor/chart.umd.min.js" defer></script>');
  });

  it('serves its stylesheet and icon', async () => {
    const app = frontend();
    expect((await request(app).get('/styles.css').expect(200)).headers['content-type']).toMatch(/^text\/css/);
    expect((await request(app).get('/favicon.svg').expect(200)).headers['content-type']).toMatch(
      /^image\/svg\+xml/,
    );
  });

  it('serves Chart.js from node_modules under /vendor/, and nothing else from there', async () => {
    const app = frontend();
    const chart = await request(app).get('/vendor/chart.umd.min.js').expect(200);
    expect(chart.headers['content-type']).toMatch(/javascript/);
    expect(chart.text).toMatch(/^\/\*!\n \* Chart\.js v4\./);
    const missing = await request(app).get('/vendor/chart.cjs').expect(404);
    expect(missing.body).toEqual({ error: 'no route for GET /vendor/chart.cjs' });
    await request(app).get('/vendor/..%2Fpackage.json').expect(404);
  });

  it('serves only JavaScript and source maps under /js/', async () => {
    const response = await request(frontend()).get('/js/main.d.ts').expect(404);
    expect(response.body).toEqual({ error: 'no route for GET /js/main.d.ts' });
  });
});

describe('GET /api/config', () => {
  it('has no Jaeger link unless JAEGER_UI_URL is set', async () => {
    expect((await request(frontend()).get('/api/config').expect(200)).body).toEqual({
      jaeger: null,
      traces: null,
    });
  });

  it('names the Jaeger UI and the service whose traces to search', async () => {
    const app = frontend({ jaegerUiUrl: 'http://localhost:16686', traceService: 'frontend' });
    expect((await request(app).get('/api/config').expect(200)).body).toEqual({
      jaeger: { url: 'http://localhost:16686', service: 'frontend' },
      traces: null,
    });
  });

  it("offers the page's Traces view when a Jaeger query API is configured", async () => {
    const app = frontend(undefined, { queryUrl: 'http://127.0.0.1:9', timeoutMs: 200 });
    expect((await request(app).get('/api/config').expect(200)).body).toEqual({
      jaeger: null,
      traces: { service: 'frontend' },
    });
  });
});

describe('GET /api/jaeger/*: the Jaeger query API, relayed for the page', () => {
  let jaeger: TraceServer;
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  beforeAll(async () => {
    jaeger = await startTraceServer({ port: 0 });
    const start = `${BigInt(Date.now()) * 1_000_000n}`;
    const span = {
      traceId,
      spanId: '00f067aa0ba902b7',
      name: 'GET /api/products',
      kind: 2,
      startTimeUnixNano: start,
      endTimeUnixNano: start,
    };
    const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'frontend' } }] };
    await fetch(`${jaeger.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ spans: [span] }] }] }),
    });
  });
  afterAll(() => jaeger.close());
  const relaying = () => frontend(undefined, { queryUrl: jaeger.url, timeoutMs: 2000 });

  it('relays services, operations, searches and traces as Jaeger answers them', async () => {
    const app = relaying();
    expect((await request(app).get('/api/jaeger/services').expect(200)).body.data).toEqual(['frontend']);
    expect(
      (await request(app).get('/api/jaeger/services/frontend/operations').expect(200)).body.data,
    ).toEqual(['GET /api/products']);
    const search = await request(app)
      .get('/api/jaeger/traces?service=frontend&limit=5&ignored=1')
      .expect(200);
    expect(search.body.data.map((t: { traceID: string }) => t.traceID)).toEqual([traceId]);
    expect(
      (await request(app).get(`/api/jaeger/traces/${traceId}`).expect(200)).body.data[0].spans,
    ).toHaveLength(1);
  });

  it("passes Jaeger's own 4xx answers through", async () => {
    const app = relaying();
    const missing = await request(app).get('/api/jaeger/traces').expect(400);
    expect(missing.body.errors[0].msg).toBe("parameter 'service' is required");
    await request(app)
      .get(`/api/jaeger/traces/${'1'.repeat(32)}`)
      .expect(404);
    await request(app).get('/api/jaeger/traces/..%2F..%2Fservices').expect(400);
  });

  it('answers 404 when no query API is configured, and 503 when it is down', async () => {
    const none = await request(frontend()).get('/api/jaeger/services').expect(404);
    expect(none.body).toEqual({ error: 'no trace query API is configured (JAEGER_QUERY_URL)' });
    const down = frontend(undefined, { queryUrl: 'http://127.0.0.1:9', timeoutMs: 500 });
    expect((await request(down).get('/api/jaeger/services').expect(503)).body.error).toMatch(
      /jaeger is unavailable/,
    );
  });
});

describe('JAEGER_UI_URL', () => {
  const env = { BACKEND_URL: 'http://localhost:8081', AWS_REGION: 'us-east-1' };

  it('is optional, and the search link names OTEL_SERVICE_NAME (frontend by default)', () => {
    const config = readFrontendConfig(env);
    expect([config.JAEGER_UI_URL, config.OTEL_SERVICE_NAME]).toEqual([undefined, 'frontend']);
    expect(
      readFrontendConfig({ ...env, JAEGER_UI_URL: 'http://localhost:16686', OTEL_SERVICE_NAME: 'web' }),
    ).toMatchObject({ JAEGER_UI_URL: 'http://localhost:16686', OTEL_SERVICE_NAME: 'web' });
  });

  it('must be an http(s) URL, since the page puts it in links', () => {
    expect(() => readFrontendConfig({ ...env, JAEGER_UI_URL: 'javascript:alert(1)' })).toThrow(
      /JAEGER_UI_URL: must be an http\(s\) URL/,
    );
  });
});
