import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  checkTable,
  createProductsApi,
  DynamoDb,
  NEWEST_FIRST,
  type Product,
  ProductStore,
} from '@twin/products';
import type { ProductPage } from '../src/api';
import { StoreUnavailableError, ValidationError } from '../src/errors';
import { newProduct } from '../src/product';
import { startTestDynamo, type TestDynamo } from '../../../tests/support/dynamo';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(() => dynamo.close());

async function freshApi() {
  const store = new ProductStore(dynamo.db, await dynamo.table());
  const errors: Error[] = [];
  return { store, errors, api: createProductsApi(store, { onError: (err) => errors.push(err) }) };
}

/** Every product, page by page, as a client walks the listing. */
async function walk(api: ReturnType<typeof createProductsApi>, limit: number) {
  const pages: Product[][] = [];
  let cursor: string | undefined;
  do {
    const answer = await api.handle({ operation: 'list', query: cursor ? { limit, cursor } : { limit } });
    expect(answer.statusCode).toBe(200);
    const page = answer.body as ProductPage;
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor && pages.length < 50);
  return pages;
}

describe('products API over a real DynamoDB API (dynalite)', () => {
  it('creates, gets, lists and deletes a product', async () => {
    const { api } = await freshApi();
    const created = await api.handle({ operation: 'create', body: '{"name":"Laptop","price":999.99}' });
    expect(created.statusCode).toBe(201);
    const product = created.body as Product;
    expect(product).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Laptop',
      price: 999.99,
      createdAt: expect.any(String),
    });
    expect(new Date(product.createdAt).toISOString()).toBe(product.createdAt);

    expect(await api.handle({ operation: 'get', id: product.id })).toEqual({
      statusCode: 200,
      body: product,
    });
    expect(await api.handle({ operation: 'list', query: {} })).toEqual({
      statusCode: 200,
      body: { items: [product] },
    });
    expect(await api.handle({ operation: 'delete', id: product.id })).toEqual({ statusCode: 204 });
    expect(await api.handle({ operation: 'get', id: product.id })).toEqual({
      statusCode: 404,
      body: { error: `product ${product.id} not found` },
    });
    expect((await api.handle({ operation: 'delete', id: product.id })).statusCode).toBe(404);
  });

  it('lists newest first across pages, every product exactly once, whatever the order of ids', async () => {
    const { api, store } = await freshApi();
    // 45 products a second apart, written in shuffled order: ids and write order say nothing.
    const start = Date.parse('2026-03-01T12:00:00.000Z');
    const products = Array.from({ length: 45 }, (_, i) =>
      newProduct({ name: `item ${i}`, price: i }, new Date(start + i * 1000)),
    );
    for (const product of [...products].sort(() => Math.random() - 0.5)) await store.create(product);

    const pages = await walk(api, 20);
    expect(pages.map((page) => page.length)).toEqual([20, 20, 5]);
    expect(pages.flat().map((item) => item.name)).toEqual(products.map((p) => p.name).reverse());

    // One created now is the first item of the first page, not somewhere on page 3.
    const created = await api.handle({ operation: 'create', body: '{"name":"just now","price":1}' });
    const [first] = await walk(api, 20);
    expect(first?.[0]).toEqual(created.body);
  });

  it('pages through products created in the same millisecond without losing or repeating any', async () => {
    const { api, store } = await freshApi();
    const now = new Date('2026-03-02T00:00:00.000Z');
    const products = Array.from({ length: 7 }, (_, i) => newProduct({ name: `twin ${i}`, price: 1 }, now));
    for (const product of products) await store.create(product);
    const seen = (await walk(api, 3)).flat();
    expect(seen.map((item) => item.id).sort()).toEqual(products.map((p) => p.id).sort());
  });

  it('answers bad input with 400 and the field, and stores nothing', async () => {
    const { api, errors } = await freshApi();
    expect(await api.handle({ operation: 'create', body: '{"name":"Laptop","price":-1}' })).toEqual({
      statusCode: 400,
      body: { error: 'price: must not be negative', field: 'price' },
    });
    // base64url of {"id":""}: was a store outage (503), logged as one.
    expect(await api.handle({ operation: 'list', query: { limit: '2', cursor: 'eyJpZCI6IiJ9' } })).toEqual({
      statusCode: 400,
      body: { error: 'cursor: is not a cursor returned by this API', field: 'cursor' },
    });
    expect((await api.handle({ operation: 'get', id: 'nope' })).statusCode).toBe(400);
    expect(await api.handle({ operation: 'list', query: {} })).toEqual({
      statusCode: 200,
      body: { items: [] },
    });
    expect(errors).toEqual([]);
  });
});

describe('what DynamoDB says, sorted: the client at fault (400), this code (500), the store (503)', () => {
  it("makes DynamoDB's refusal of a start key the cursor's fault", async () => {
    const { store } = await freshApi();
    // A key DynamoDB refuses (empty key attributes), as a cursor that slipped past validation would be.
    await expect(store.list(2, { createdAt: '', id: '' })).rejects.toEqual(
      new ValidationError('cursor: is not a cursor returned by this API', 'cursor'),
    );
  });

  it('makes a refusal of a request without client input a bug, not an outage', async () => {
    const { store } = await freshApi();
    const refused = store.get('');
    await expect(refused).rejects.toThrow(/get: DynamoDB refused the request/);
    await expect(refused).rejects.not.toBeInstanceOf(StoreUnavailableError);
    await expect(refused).rejects.not.toBeInstanceOf(ValidationError);
  });

  it('answers 503 and reports the cause when the table is gone or the store unreachable', async () => {
    const errors: Error[] = [];
    const gone = createProductsApi(new ProductStore(dynamo.db, 'no-such-table'), {
      onError: (err) => errors.push(err),
    });
    expect(await gone.handle({ operation: 'list', query: {} })).toEqual({
      statusCode: 503,
      body: { error: 'product store is unavailable' },
    });
    expect(errors[0]?.message).toMatch(/ResourceNotFoundException/);

    const closed = new DynamoDb({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: async () => ({ accessKeyId: 'test', secretAccessKey: 'test' }),
      maxAttempts: 1,
    });
    const unreachable = createProductsApi(new ProductStore(closed, 'products'), {
      onError: (err) => errors.push(err),
    });
    expect(
      (await unreachable.handle({ operation: 'get', id: 'a70dd86b-7052-4f2a-8c64-bf27b5fc6997' })).statusCode,
    ).toBe(503);
    expect(errors[1]).toBeInstanceOf(StoreUnavailableError);
    closed.destroy();
  });
});

describe('the table', () => {
  it('has the newest-first index, which readiness checks', async () => {
    const table = await dynamo.table();
    const { Table } = await dynamo.client.send(new DescribeTableCommand({ TableName: table }));
    expect(Table?.GlobalSecondaryIndexes?.map((gsi) => [gsi.IndexName, gsi.KeySchema])).toEqual([
      [
        NEWEST_FIRST.indexName,
        [
          { AttributeName: 'kind', KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
      ],
    ]);
    await expect(checkTable(dynamo.client, table)).resolves.toBeUndefined();
  });

  it('is not ready without the index', async () => {
    const name = `no-index-${Date.now()}`;
    await dynamo.client.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await expect(checkTable(dynamo.client, name)).rejects.toThrow(`table ${name} has no index newest-first`);
  });
});
