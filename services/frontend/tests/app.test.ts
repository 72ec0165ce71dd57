import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createLogger } from '@twin/observability';
import { createFrontendApp } from '../src/app';
import { BackendClient } from '../src/backend-client';
import { ImageStore } from '../src/image-store';
import { s3Client } from '../../../packages/thumbnails/tests/fixtures';

const logger = createLogger('frontend-test', 'silent');

/** A real HTTP server standing in for the backend, answering as `handler` says. */
async function upstream(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** These tests are about the backend; the object store is never reached. */
const unusedImages = new ImageStore(s3Client('http://127.0.0.1:9', 1), 'images');

function frontend(baseUrl: string, timeoutMs = 500) {
  return createFrontendApp({
    backend: new BackendClient({ baseUrl, timeoutMs }),
    images: unusedImages,
    uploadLimits: { maxBytes: 1024, maxPixels: 1024 },
    version: '1.0.0',
    logger,
    storeReady: async () => undefined,
  });
}

describe('frontend /api relays to the backend', () => {
  const seen: Array<{ method?: string; url?: string; body: string; headers: http.IncomingHttpHeaders }> = [];
  let backend: Awaited<ReturnType<typeof upstream>>;

  beforeAll(async () => {
    backend = await upstream((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, body, headers: req.headers });
        res.setHeader('content-type', 'application/json');
        if (req.url === '/version') return res.end('{"service":"backend","version":"2.0.0"}');
        if (req.method === 'POST' && body.includes('"price":-1')) {
          res.statusCode = 400;
          return res.end('{"error":"price: must not be negative","field":"price"}');
        }
        res.statusCode = req.method === 'POST' ? 201 : 200;
        res.end(req.method === 'POST' ? body : '{"items":[]}');
      });
    });
  });
  afterAll(() => backend.close());
  beforeEach(() => (seen.length = 0));

  it('shows the version of whichever backend answered', async () => {
    await request(frontend(backend.url))
      .get('/api/version')
      .expect(200, { service: 'backend', version: '2.0.0' });
  });

  it('forwards a create with its body and the request id', async () => {
    const response = await request(frontend(backend.url))
      .post('/api/products')
      .set('content-type', 'application/json')
      .set('x-request-id', 'req-42')
      .send('{"name":"Laptop","price":999.99}')
      .expect(201);
    expect(response.body).toEqual({ name: 'Laptop', price: 999.99 });
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/products',
      body: '{"name":"Laptop","price":999.99}',
    });
    expect(seen[0]?.headers['x-request-id']).toBe('req-42');
  });

  it('passes the backend validation errors through unchanged', async () => {
    const response = await request(frontend(backend.url))
      .post('/api/products')
      .send({ name: 'x', price: -1 });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'price: must not be negative', field: 'price' });
  });

  it('forwards the path and query string exactly as sent, for the backend to judge', async () => {
    await request(frontend(backend.url)).get('/api/products?limit=5&cursor=a%2Bb&cursor=c&x').expect(200);
    await request(frontend(backend.url)).get('/api/products/Caf%C3%A9%2F..').expect(200);
    expect(seen.map((call) => call.url)).toEqual([
      '/products?limit=5&cursor=a%2Bb&cursor=c&x',
      '/products/Caf%C3%A9%2F..',
    ]);
  });

  it('refuses an oversized body itself', async () => {
    const response = await request(frontend(backend.url))
      .post('/api/products')
      .set('content-type', 'application/json')
      .send('x'.repeat(1024 * 1024));
    expect(response.status).toBe(413);
    expect(response.body.error).toMatch(/larger than/);
    expect(seen).toHaveLength(0);
  });
});

describe('frontend when the backend misbehaves', () => {
  it('answers 503 when the backend is down, and is not ready', async () => {
    const gone = await upstream(() => undefined);
    await gone.close();
    const app = frontend(gone.url);
    const response = await request(app).get('/api/products').expect(503);
    expect(response.body).toEqual({ error: 'backend is unavailable' });
    await request(app).get('/readyz').expect(503);
    await request(app).get('/healthz').expect(200);
  });

  it('answers 504 within its timeout when the backend hangs', async () => {
    const hanging = await upstream(() => undefined);
    const started = Date.now();
    const response = await request(frontend(hanging.url, 300)).get('/api/version').expect(504);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(response.body).toEqual({ error: 'backend did not answer within 300 ms' });
    await hanging.close();
  });

  it('answers 502 when the backend fails', async () => {
    const failing = await upstream((_req, res) => {
      res.statusCode = 500;
      res.end('{"error":"boom"}');
    });
    const response = await request(frontend(failing.url)).get('/api/products').expect(502);
    expect(response.body).toEqual({ error: 'backend failed', upstreamStatus: 500 });
    await failing.close();
  });
});
