import request from 'supertest';
import { createLogger } from '@twin/observability';
import { checkTable, createProductsApi, ProductStore } from '@twin/products';
import { createBackendApp } from '../src/app';
import { readBackendConfig } from '../src/config';
import { startTestDynamo, type TestDynamo } from '../../../tests/support/dynamo';

const logger = createLogger('backend-test', 'silent');
const noFaults = { delayMs: 0, errorRate: 0, errorStatus: 503 };
let dynamo: TestDynamo;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(() => dynamo.close());

async function backend(faults = noFaults, version = '1.0.0') {
  const table = await dynamo.table();
  const api = createProductsApi(new ProductStore(dynamo.db, table));
  return createBackendApp({ api, version, logger, faults, ready: () => checkTable(dynamo.client, table) });
}

describe('backend HTTP API', () => {
  it('serves the product lifecycle', async () => {
    const app = await backend();
    const created = await request(app)
      .post('/products')
      .set('content-type', 'application/json')
      .send('{"name":"Laptop","price":999.99}')
      .expect(201);
    expect(created.body).toMatchObject({ name: 'Laptop', price: 999.99 });
    await request(app).get(`/products/${created.body.id}`).expect(200, created.body);
    const list = await request(app).get('/products?limit=10').expect(200);
    expect(list.body).toEqual({ items: [created.body] });
    await request(app).delete(`/products/${created.body.id}`).expect(204);
    await request(app).get(`/products/${created.body.id}`).expect(404);
  });

  it.each([
    ['{"name":"Laptop","price":', 400, 'request body is not valid JSON'],
    ['{"name":"Laptop","price":"cheap"}', 400, 'price: must be a number'],
    ['{"price":10}', 400, 'name: is required'],
    ['{"name":"Laptop","price":-5}', 400, 'price: must not be negative'],
    [
      JSON.stringify({ name: 'x'.repeat(1024 * 1024), price: 1 }),
      413,
      'request body is larger than 16384 bytes',
    ],
  ])('answers %s with %i and a JSON error', async (body, status, error) => {
    const app = await backend();
    const response = await request(app).post('/products').set('content-type', 'application/json').send(body);
    expect(response.status).toBe(status);
    expect(response.type).toBe('application/json');
    expect(response.body.error).toBe(error);
    expect((await request(app).get('/products')).body).toEqual({ items: [] });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await request(await backend())
      .get('/nope')
      .expect(404);
    expect(response.body).toEqual({ error: 'no route for GET /nope' });
  });

  it('reports its version, health and readiness', async () => {
    const app = await backend(noFaults, '2.0.0');
    await request(app).get('/version').expect(200, { service: 'backend', version: '2.0.0' });
    await request(app).get('/healthz').expect(200);
    await request(app).get('/readyz').expect(200);
  });

  it('is not ready when its table does not answer', async () => {
    const api = createProductsApi(new ProductStore(dynamo.db, 'missing'));
    const app = createBackendApp({
      api,
      version: '1.0.0',
      logger,
      faults: noFaults,
      ready: () => checkTable(dynamo.client, 'missing'),
    });
    const response = await request(app).get('/readyz').expect(503);
    expect(response.body.status).toBe('unavailable');
  });

  it('sets security headers and echoes the request id', async () => {
    const response = await request(await backend())
      .get('/version')
      .set('x-request-id', 'abc-123')
      .expect(200);
    expect(response.headers['x-request-id']).toBe('abc-123');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    // Plain HTTP behind the mesh: the page must not be told to upgrade its requests.
    expect(response.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
  });
});

describe('fault injection', () => {
  it('fails API requests at the configured rate but leaves health honest', async () => {
    const app = await backend({ delayMs: 0, errorRate: 1, errorStatus: 503 });
    await request(app).get('/products').expect(503, { error: 'injected fault' });
    await request(app).get('/version').expect(503);
    await request(app).get('/healthz').expect(200);
  });

  it('adds the configured latency', async () => {
    const app = await backend({ delayMs: 150, errorRate: 0, errorStatus: 503 });
    const started = Date.now();
    await request(app).get('/version').expect(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('is off unless the environment turns it on', () => {
    const config = readBackendConfig({ AWS_REGION: 'us-east-1' });
    expect(config).toMatchObject({
      FAULT_DELAY_MS: 0,
      FAULT_ERROR_RATE: 0,
      PORT: 8081,
      TABLE_NAME: 'products',
    });
    expect(readBackendConfig({ AWS_REGION: 'x', FAULT_ERROR_RATE: '0.5' }).FAULT_ERROR_RATE).toBe(0.5);
  });

  it('rejects bad settings with a message naming the variable', () => {
    expect(() => readBackendConfig({ AWS_REGION: 'x', FAULT_ERROR_RATE: '2' })).toThrow(/FAULT_ERROR_RATE/);
    expect(() => readBackendConfig({ AWS_REGION: 'x', PORT: 'http' })).toThrow(/PORT/);
    expect(() => readBackendConfig({})).toThrow(/AWS_REGION/);
  });
});
