import request from 'supertest';
import { createLogger } from '@twin/observability';
import { createFrontendApp } from '../src/app';
import { BackendClient } from '../src/backend-client';
import { readFrontendConfig } from '../src/config';
import { ImageStore } from '../src/image-store';
import type { PageOptions } from '../src/page-routes';
import { s3Client } from '../../../packages/thumbnails/tests/fixtures';

const logger = createLogger('frontend-test', 'silent');

/** The page needs neither the backend nor the object store: both point at closed ports. */
function frontend(page?: PageOptions) {
  return createFrontendApp({
    backend: new BackendClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 200 }),
    images: new ImageStore(s3Client('http://127.0.0.1:9', 1), 'images'),
    uploadLimits: { maxBytes: 1024, maxPixels: 1024 },
    version: '1.0.0',
    logger,
    storeReady: async () => undefined,
    page,
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
    expect((await request(frontend()).get('/api/config').expect(200)).body).toEqual({ jaeger: null });
  });

  it('names the Jaeger UI and the service whose traces to search', async () => {
    const app = frontend({ jaegerUiUrl: 'http://localhost:16686', traceService: 'frontend' });
    expect((await request(app).get('/api/config').expect(200)).body).toEqual({
      jaeger: { url: 'http://localhost:16686', service: 'frontend' },
    });
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
