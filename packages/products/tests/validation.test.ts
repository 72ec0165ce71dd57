import {
  MAX_PRODUCT_BODY_BYTES,
  parsePageQuery,
  parseProductId,
  parseProductInput,
  PayloadTooLargeError,
  ValidationError,
} from '@twin/products';

function rejection(run: () => unknown): { name: string; message: string; field?: string } {
  try {
    run();
  } catch (err) {
    const error = err as ValidationError;
    return { name: error.name, message: error.message, field: error.field };
  }
  throw new Error('expected a rejection');
}

describe('parseProductInput', () => {
  it('accepts a name and a price, trimming the name', () => {
    expect(parseProductInput('{"name":"  Laptop ","price":999.99}')).toEqual({
      name: 'Laptop',
      price: 999.99,
    });
    expect(parseProductInput('{"name":"Free sample","price":0}')).toEqual({ name: 'Free sample', price: 0 });
  });

  it.each([
    ['{"price":1}', 'name', 'name: is required'],
    ['{"name":"","price":1}', 'name', 'name: must not be empty'],
    ['{"name":"   ","price":1}', 'name', 'name: must not be empty'],
    ['{"name":5,"price":1}', 'name', 'name: must be a string'],
    [`{"name":"${'x'.repeat(201)}","price":1}`, 'name', 'name: must be at most 200 characters'],
    ['{"name":"a"}', 'price', 'price: is required'],
    ['{"name":"a","price":"9.99"}', 'price', 'price: must be a number'],
    ['{"name":"a","price":null}', 'price', 'price: must be a number'],
    ['{"name":"a","price":-0.01}', 'price', 'price: must not be negative'],
    ['{"name":"a","price":1e999}', 'price', 'price: must be a finite number'],
    ['{"name":"a","price":1,"admin":true}', 'admin', 'admin: is not a known field'],
  ])('rejects %s naming the field', (body, field, message) => {
    expect(rejection(() => parseProductInput(body))).toEqual({ name: 'ValidationError', message, field });
  });

  it.each(['[]', 'null', '"Laptop"', '42'])('rejects a body that is not an object: %s', (body) => {
    expect(rejection(() => parseProductInput(body)).message).toBe('body: must be a JSON object');
  });

  it('rejects malformed JSON and a missing body', () => {
    expect(rejection(() => parseProductInput('{"name":')).message).toBe('request body is not valid JSON');
    expect(rejection(() => parseProductInput(undefined)).message).toBe('body: is required');
    expect(rejection(() => parseProductInput('  ')).message).toBe('body: is required');
  });

  it('rejects an oversized body before parsing it', () => {
    const body = JSON.stringify({ name: 'x'.repeat(MAX_PRODUCT_BODY_BYTES), price: 1 });
    expect(() => parseProductInput(body)).toThrow(PayloadTooLargeError);
  });
});

describe('parsePageQuery', () => {
  it('defaults the limit and coerces query strings', () => {
    expect(parsePageQuery({})).toEqual({ limit: 20 });
    expect(parsePageQuery({ limit: '5', cursor: 'abc' })).toEqual({ limit: 5, cursor: 'abc' });
  });

  it.each([
    [{ limit: 'ten' }, 'limit: must be a number'],
    [{ limit: '0' }, 'limit: must be at least 1'],
    [{ limit: '101' }, 'limit: must be at most 100'],
    [{ limit: '2.5' }, 'limit: must be an integer'],
    [{ limit: ['1', '2'] }, 'limit: must be a number'],
  ])('rejects %j', (query, message) => {
    expect(rejection(() => parsePageQuery(query)).message).toBe(message);
  });
});

describe('parseProductId', () => {
  it('accepts UUIDs and normalises case', () => {
    expect(parseProductId('A70DD86B-7052-4F2A-8C64-BF27B5FC6997')).toBe(
      'a70dd86b-7052-4f2a-8c64-bf27b5fc6997',
    );
  });

  it.each(['123', '', '../etc/passwd', 'a70dd86b-7052-4f2a-8c64-bf27b5fc699'])('rejects %j', (id) => {
    expect(rejection(() => parseProductId(id))).toEqual({
      name: 'ValidationError',
      message: 'id: must be a UUID',
      field: 'id',
    });
  });
});
