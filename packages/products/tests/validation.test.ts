import { encodeCursor } from '../src/cursor';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../src/errors';
import {
  graphemeCount,
  MAX_PRODUCT_BODY_BYTES,
  parsePageQuery,
  parseProductId,
  parseProductInput,
} from '../src/validation';

function rejection(run: () => unknown): { name: string; message: string; field?: string } {
  try {
    run();
  } catch (err) {
    const error = err as ValidationError;
    return { name: error.name, message: error.message, field: error.field };
  }
  throw new Error('expected a rejection');
}

const product = (name: string) => JSON.stringify({ name, price: 1 });

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
    [product('x'.repeat(201)), 'name', 'name: must be at most 200 characters'],
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
    expect(rejection(() => parseProductInput(Buffer.alloc(0))).message).toBe('body: is required');
  });

  it('refuses an oversized body before anything else, even one of spaces', () => {
    const body = JSON.stringify({ name: 'x'.repeat(MAX_PRODUCT_BODY_BYTES), price: 1 });
    expect(() => parseProductInput(body)).toThrow(PayloadTooLargeError);
    expect(() => parseProductInput(Buffer.from(' '.repeat(MAX_PRODUCT_BODY_BYTES + 1)), 'gzip')).toThrow(
      PayloadTooLargeError,
    );
    expect(() => parseProductInput(Buffer.from(' '.repeat(MAX_PRODUCT_BODY_BYTES)))).toThrow(
      'body: is required',
    );
  });

  it('reads bytes as UTF-8 only, uncompressed, a byte order mark dropped', () => {
    const latin1 = Buffer.concat([
      Buffer.from('{"name":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('","price":1}'),
    ]);
    expect(rejection(() => parseProductInput(latin1))).toEqual({
      name: 'ValidationError',
      message: 'request body is not valid UTF-8',
      field: undefined,
    });
    expect(parseProductInput(Buffer.from('\ufeff{"name":"café","price":1}'))).toEqual({
      name: 'café',
      price: 1,
    });
    expect(() => parseProductInput(Buffer.from(product('a')), 'gzip')).toThrow(UnsupportedMediaTypeError);
    expect(() => parseProductInput(Buffer.from(product('a')), 'gzip')).toThrow(
      'request body must be sent without a content encoding',
    );
    expect(parseProductInput(Buffer.from(product('a')), ' Identity ')).toEqual({ name: 'a', price: 1 });
  });
});

describe('product names', () => {
  it('are stored composed (NFC)', () => {
    const decomposed = 'Cafe\u0301';
    expect(parseProductInput(product(decomposed)).name).toBe('Caf\u00e9');
  });

  it('count the characters a person sees (grapheme clusters), not code points', () => {
    const family = '👨‍👩‍👧‍👦'; // 7 code points, 1 character
    expect(graphemeCount(family)).toBe(1);
    expect(parseProductInput(product(family.repeat(40))).name).toBe(family.repeat(40));
    expect(parseProductInput(product(family.repeat(200))).name).toBe(family.repeat(200));
    expect(rejection(() => parseProductInput(product('😀'.repeat(201)))).message).toBe(
      'name: must be at most 200 characters',
    );
    expect(parseProductInput(product('e\u0301'.repeat(200))).name).toBe('\u00e9'.repeat(200));
  });

  it.each([
    ['zero-width spaces', '\u200b\u200b', 'name: must contain a visible character'],
    ['a Hangul filler', '\u3164', 'name: must contain a visible character'],
    ['combining marks alone', '\u0301\u0301', 'name: must contain a visible character'],
    ['a soft hyphen and a word joiner', '\u00ad\u2060', 'name: must contain a visible character'],
    ['a NUL', 'Lap\u0000top', 'name: must not contain control characters'],
    ['a newline inside', 'Lap\ntop', 'name: must not contain control characters'],
    ['a C1 control', 'Lap\u0085top', 'name: must not contain control characters'],
    ['a right-to-left override', 'Laptop \u202eexe.txt', 'name: must not contain bidirectional overrides'],
    ['a right-to-left isolate', '\u2067Laptop\u2069', 'name: must not contain bidirectional overrides'],
    ['a lone surrogate', 'a\ud800', 'name: must be valid Unicode text'],
  ])('refuses %s', (_what, name, message) => {
    expect(rejection(() => parseProductInput(product(name)))).toEqual({
      name: 'ValidationError',
      message,
      field: 'name',
    });
  });

  it.each([
    ['Hebrew with a right-to-left mark', 'מחשב\u200f 15'],
    ['Japanese', 'ノートパソコン'],
    ['a flag', '🇪🇸'],
    ['a keycap', '1️⃣'],
    ['punctuation only', '—'],
    ['a word with a zero-width joiner inside', 'a\u200db'],
  ])('accepts %s', (_what, name) => {
    expect(parseProductInput(product(name)).name).toBe(name.normalize('NFC'));
  });
});

describe('parsePageQuery', () => {
  const cursor = encodeCursor({
    createdAt: '2026-01-02T03:04:05.678Z',
    id: 'a70dd86b-7052-4f2a-8c64-bf27b5fc6997',
  });

  it('defaults the limit, coerces it, and decodes the cursor', () => {
    expect(parsePageQuery({})).toEqual({ limit: 20 });
    expect(parsePageQuery({ limit: '5', cursor })).toEqual({
      limit: 5,
      after: { createdAt: '2026-01-02T03:04:05.678Z', id: 'a70dd86b-7052-4f2a-8c64-bf27b5fc6997' },
    });
  });

  it.each([
    [{ limit: 'ten' }, 'limit: must be a number'],
    [{ limit: '0' }, 'limit: must be at least 1'],
    [{ limit: '101' }, 'limit: must be at most 100'],
    [{ limit: '2.5' }, 'limit: must be an integer'],
    [{ limit: ['1', '2'] }, 'limit: must be given once'],
    [{ cursor: [cursor, cursor] }, 'cursor: must be given once'],
    [{ cursor: { a: 'b' } }, 'cursor: must be a string'],
    [{ cursor: 'x'.repeat(2049) }, 'cursor: is too long'],
  ])('rejects %j', (query, message) => {
    expect(rejection(() => parsePageQuery(query)).message).toBe(message);
  });
});

describe('cursors: only one this API issued is accepted', () => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const id = 'a70dd86b-7052-4f2a-8c64-bf27b5fc6997';
  const createdAt = '2026-01-02T03:04:05.678Z';

  it.each([
    ['{"id":""} (a key DynamoDB refuses)', encode({ id: '' })],
    ['an id alone', encode({ id })],
    ['an empty id', encode({ createdAt, id: '' })],
    ['an id that is not a UUID', encode({ createdAt, id: 'x' })],
    ['an upper-case id', encode({ createdAt, id: id.toUpperCase() })],
    ['a date that is not ISO 8601', encode({ createdAt: 'yesterday', id })],
    ['a date that does not exist', encode({ createdAt: '2026-02-30T00:00:00.000Z', id })],
    ['a date without milliseconds', encode({ createdAt: '2026-01-02T03:04:05Z', id })],
    ['an extra field', encode({ createdAt, id, kind: 'product' })],
    ['the fields in another order', encode({ id, createdAt })],
    ['an array', encode([createdAt, id])],
    ['JSON null', encode(null)],
    ['not base64url', `${encode({ createdAt, id })}=`],
    ['not JSON', Buffer.from('not json').toString('base64url')],
    ['empty', ''],
  ])('refuses %s', (_what, cursor) => {
    expect(rejection(() => parsePageQuery({ cursor }))).toEqual({
      name: 'ValidationError',
      message: 'cursor: is not a cursor returned by this API',
      field: 'cursor',
    });
  });
});

describe('parseProductId', () => {
  it('accepts UUIDs and normalises case', () => {
    expect(parseProductId('A70DD86B-7052-4F2A-8C64-BF27B5FC6997')).toBe(
      'a70dd86b-7052-4f2a-8c64-bf27b5fc6997',
    );
  });

  it.each(['123', '', '../etc/passwd', 'a70dd86b-7052-4f2a-8c64-bf27b5fc699', undefined])(
    'rejects %j',
    (id) => {
      expect(rejection(() => parseProductId(id))).toEqual({
        name: 'ValidationError',
        message: 'id: must be a UUID',
        field: 'id',
      });
    },
  );
});
