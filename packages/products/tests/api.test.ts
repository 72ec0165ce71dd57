import { createProductsApi, decodeCursor, encodeCursor, type Product, ProductStore } from '@twin/products';
import { startTestDynamo, type TestDynamo } from '../../../tests/support/dynamo';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(() => dynamo.close());

async function freshApi() {
  const store = new ProductStore(dynamo.client, await dynamo.table());
  return { store, api: createProductsApi(store) };
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

  it('pages through every product exactly once with limit and cursor', async () => {
    const { api } = await freshApi();
    const names = Array.from({ length: 7 }, (_, i) => `item ${i}`);
    for (const name of names)
      await api.handle({ operation: 'create', body: JSON.stringify({ name, price: 1 }) });

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await api.handle({
        operation: 'list',
        query: cursor ? { limit: '3', cursor } : { limit: '3' },
      });
      expect(page.statusCode).toBe(200);
      const body = page.body as { items: Product[]; nextCursor?: string };
      expect(body.items.length).toBeLessThanOrEqual(3);
      seen.push(...body.items.map((item) => item.name));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen.sort()).toEqual(names);
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it('answers bad input with 400 and the field, and stores nothing', async () => {
    const { api } = await freshApi();
    expect(await api.handle({ operation: 'create', body: '{"name":"Laptop","price":-1}' })).toEqual({
      statusCode: 400,
      body: { error: 'price: must not be negative', field: 'price' },
    });
    expect(await api.handle({ operation: 'list', query: { cursor: 'not-a-cursor' } })).toEqual({
      statusCode: 400,
      body: { error: 'cursor: is not a cursor returned by this API', field: 'cursor' },
    });
    expect((await api.handle({ operation: 'get', id: 'nope' })).statusCode).toBe(400);
    expect(await api.handle({ operation: 'list', query: {} })).toEqual({
      statusCode: 200,
      body: { items: [] },
    });
  });

  it('answers 503 and reports the cause when the table is gone', async () => {
    const errors: Error[] = [];
    const api = createProductsApi(new ProductStore(dynamo.client, 'no-such-table'), {
      onError: (err) => errors.push(err),
    });
    expect(await api.handle({ operation: 'list', query: {} })).toEqual({
      statusCode: 503,
      body: { error: 'product store is unavailable' },
    });
    expect(errors[0]?.message).toMatch(/ResourceNotFoundException/);
  });
});

describe('cursor', () => {
  it('round-trips a key and rejects anything else', () => {
    const cursor = encodeCursor({ id: 'abc' });
    expect(decodeCursor(cursor)).toEqual({ id: 'abc' });
    expect(encodeCursor(undefined)).toBeUndefined();
    expect(() => decodeCursor(Buffer.from('{"id":5}').toString('base64url'))).toThrow('cursor');
  });
});
