import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@twin/observability';
import { checkTable, createProductsApi, newProduct, ProductStore } from '@twin/products';
import { createBackendApp } from '../../services/backend/src/app';
import { startTestDynamo, type TestDynamo } from '../../tests/support/dynamo';
import { apiEvent, LAMBDA_DIR, loadHandlerModule } from './helpers';

// The same requests to the Express backend and to the products Lambda, on the same table: the two
// shells of @twin/products must answer each with the same status, content type and body.

type ProductsHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
}

interface Case {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  body?: string | Buffer;
  contentType?: string;
}

let dynamo: TestDynamo;
let store: ProductStore;
let server: Server;
let backend: string;
let lambda: ProductsHandler;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const table = await dynamo.table();
  store = new ProductStore(dynamo.client, table);
  const logger = createLogger('parity-test', 'silent');
  server = createBackendApp({
    api: createProductsApi(store),
    version: '1.0.0',
    logger,
    faults: { delayMs: 0, errorRate: 0, errorStatus: 503 },
    ready: () => checkTable(dynamo.client, table),
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  backend = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ({ handler: lambda } = loadHandlerModule<{ handler: ProductsHandler }>(
    path.join(LAMBDA_DIR, 'src/handlers/products'),
    {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      TABLE_NAME: table,
      LOG_LEVEL: 'silent',
    },
  ));
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await dynamo?.close();
});

/** The request's bytes as they are, over a socket. */
async function viaBackend({ method, url, body, contentType }: Case): Promise<Answer> {
  const response = await fetch(`${backend}${url}`, {
    method,
    headers: contentType ? { 'content-type': contentType } : {},
    body: body === undefined ? undefined : new Uint8Array(Buffer.from(body)),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? undefined,
    body: await response.text(),
  };
}

async function viaLambda(event: APIGatewayProxyEvent): Promise<Answer> {
  const result = await lambda(event, {} as Context);
  const contentType = result.headers?.['content-type'];
  return {
    status: result.statusCode,
    contentType: contentType === undefined ? undefined : String(contentType),
    body: result.body,
  };
}

const viaApiGateway = ({ method, url, body, contentType }: Case) =>
  viaLambda(apiEvent(method, url, { body, contentType }));

/** Both answers, with the id and timestamp a create generates replaced by placeholders. */
async function both(c: Case): Promise<[Answer, Answer]> {
  const answers = [await viaBackend(c), await viaApiGateway(c)];
  return answers.map((answer) => {
    if (answer.status !== 201) return answer;
    const { id, createdAt, ...rest } = JSON.parse(answer.body) as Record<string, unknown>;
    expect(typeof id).toBe('string');
    expect(typeof createdAt).toBe('string');
    return { ...answer, body: JSON.stringify({ id: '<id>', ...rest, createdAt: '<createdAt>' }) };
  }) as [Answer, Answer];
}

async function expectSame(c: Case, status: number): Promise<Answer> {
  const [express, lambdaAnswer] = await both(c);
  expect(lambdaAnswer).toEqual(express);
  expect(express.status).toBe(status);
  if (express.body !== '') expect(express.contentType).toBe('application/json; charset=utf-8');
  return express;
}

const json = 'application/json';

describe('products: the Lambda answers as the Express backend does', () => {
  it('creates a product (201)', async () => {
    const answer = await expectSame(
      { method: 'POST', url: '/products', body: '{"name":"Laptop","price":999.99}', contentType: json },
      201,
    );
    expect(JSON.parse(answer.body)).toEqual({
      id: '<id>',
      name: 'Laptop',
      price: 999.99,
      createdAt: '<createdAt>',
    });
  });

  it.each(['text/plain', 'application/octet-stream'])('creates from a %s body', async (contentType) => {
    await expectSame(
      { method: 'POST', url: '/products', body: '{"name":"Mouse","price":25}', contentType },
      201,
    );
  });

  it('lists, pages and gets the same products', async () => {
    const list = JSON.parse((await expectSame({ method: 'GET', url: '/products' }, 200)).body);
    expect(list.items.length).toBeGreaterThanOrEqual(6);
    const page = JSON.parse((await expectSame({ method: 'GET', url: '/products?limit=2' }, 200)).body);
    expect(page.items).toHaveLength(2);
    await expectSame({ method: 'GET', url: `/products?limit=2&cursor=${page.nextCursor}` }, 200);
    const [first] = list.items as Array<{ id: string }>;
    const got = await expectSame({ method: 'GET', url: `/products/${first?.id}` }, 200);
    expect(JSON.parse(got.body)).toEqual(first);
    await expectSame({ method: 'GET', url: `/products/${first?.id.toUpperCase()}` }, 200);
  });

  it('answers 404 for a product that does not exist', async () => {
    const id = randomUUID();
    const answer = await expectSame({ method: 'GET', url: `/products/${id}` }, 404);
    expect(JSON.parse(answer.body)).toEqual({ error: `product ${id} not found` });
    await expectSame({ method: 'DELETE', url: `/products/${id}` }, 404);
  });

  it('deletes (204, no body)', async () => {
    const [a, b] = await Promise.all([
      store.create(newProduct({ name: 'a', price: 1 })),
      store.create(newProduct({ name: 'b', price: 2 })),
    ]);
    const express = await viaBackend({ method: 'DELETE', url: `/products/${a.id}` });
    const lambdaAnswer = await viaApiGateway({ method: 'DELETE', url: `/products/${b.id}` });
    expect(lambdaAnswer.status).toBe(204);
    expect(lambdaAnswer.body).toBe('');
    expect(lambdaAnswer.status).toBe(express.status);
    expect(lambdaAnswer.body).toBe(express.body);
    expect(await store.get(a.id)).toBeUndefined();
    expect(await store.get(b.id)).toBeUndefined();
  });

  it.each([
    ['malformed JSON', '{"name":"Laptop","price":', 400, { error: 'request body is not valid JSON' }],
    [
      'a price of the wrong type',
      '{"name":"Laptop","price":"cheap"}',
      400,
      { error: 'price: must be a number', field: 'price' },
    ],
    [
      'a name of the wrong type',
      '{"name":42,"price":1}',
      400,
      { error: 'name: must be a string', field: 'name' },
    ],
    ['a missing name', '{"price":10}', 400, { error: 'name: is required', field: 'name' }],
    ['a missing price', '{"name":"Laptop"}', 400, { error: 'price: is required', field: 'price' }],
    [
      'a negative price',
      '{"name":"Laptop","price":-5}',
      400,
      { error: 'price: must not be negative', field: 'price' },
    ],
    [
      'an unknown field',
      '{"name":"Laptop","price":1,"color":"red"}',
      400,
      { error: 'color: is not a known field', field: 'color' },
    ],
    ['an array', '[1,2]', 400, { error: 'body: must be a JSON object' }],
    ['an empty body', '', 400, { error: 'body: is required' }],
    [
      'a 1 MB body',
      JSON.stringify({ name: 'x'.repeat(1024 * 1024), price: 1 }),
      413,
      { error: 'request body is larger than 16384 bytes' },
    ],
    ['20 KB of spaces', ' '.repeat(20 * 1024), 413, { error: 'request body is larger than 16384 bytes' }],
  ])('rejects %s', async (_name, body, status, error) => {
    const before = (await store.list(100)).items.length;
    const answer = await expectSame({ method: 'POST', url: '/products', body, contentType: json }, status);
    expect(JSON.parse(answer.body)).toEqual(error);
    expect((await store.list(100)).items).toHaveLength(before);
  });

  it('refuses a body that is not UTF-8 rather than store U+FFFD', async () => {
    // {"name":"café latin1","price":1} in ISO-8859-1; the template's BinaryMediaTypes hand the
    // function these bytes, not API Gateway's UTF-8 decoding of them.
    const body = Buffer.concat([
      Buffer.from('{"name":"caf'),
      Buffer.from([0xe9]),
      Buffer.from(' latin1","price":1}'),
    ]);
    const answer = await expectSame({ method: 'POST', url: '/products', body, contentType: json }, 400);
    expect(JSON.parse(answer.body)).toEqual({ error: 'request body is not valid UTF-8' });
  });

  it('rejects a POST without a body', async () => {
    await expectSame({ method: 'POST', url: '/products' }, 400);
  });

  it.each([
    ['GET', '/products/not-a-uuid'],
    ['DELETE', '/products/not-a-uuid'],
    ['GET', '/products/3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6'],
  ] as const)('rejects a bad id: %s %s', async (method, url) => {
    const answer = await expectSame({ method, url }, 400);
    expect(JSON.parse(answer.body)).toEqual({ error: 'id: must be a UUID', field: 'id' });
  });

  it.each([
    ['/products?limit=0', 'limit: must be at least 1'],
    ['/products?limit=101', 'limit: must be at most 100'],
    ['/products?limit=abc', 'limit: must be a number'],
    ['/products?limit=1.5', 'limit: must be an integer'],
    ['/products?limit=', 'limit: must be at least 1'],
    ['/products?limit=1&limit=2', undefined],
    ['/products?cursor=not-a-cursor', 'cursor: is not a cursor returned by this API'],
    ['/products?cursor=', 'cursor: is not a cursor returned by this API'],
    [`/products?cursor=${'a'.repeat(3000)}`, 'cursor: is too long'],
  ])('rejects a bad page query: %s', async (url, error) => {
    const answer = await expectSame({ method: 'GET', url }, 400);
    if (error) expect(JSON.parse(answer.body).error).toBe(error);
  });

  it('answers a route it does not serve with the same JSON 404', async () => {
    const express = await viaBackend({ method: 'GET', url: '/nope' });
    const lambdaAnswer = await viaLambda({
      ...apiEvent('GET', '/products'),
      resource: '/nope',
      path: '/nope',
    });
    expect(lambdaAnswer).toEqual(express);
    expect(JSON.parse(express.body)).toEqual({ error: 'no route for GET /nope' });
  });
});
