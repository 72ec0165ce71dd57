import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Stack } from '../../local/src';
import { type RawAnswer, type RawRequest, sendRaw } from '../../tests/support/raw-http';
import { startTestStack } from '../../tests/support/stack';
import { LAMBDA_DIR, requireBuilt } from './helpers';

// The same request bytes, through real processes of the local stack, to the two shells of
// @twin/products on the same table: the Express backend (directly, and through the frontend's
// /api relay) and the Lambda handler behind the API Gateway emulation. Each must answer with the
// same status, content type and body.

/** A request under the products API, e.g. GET /products?limit=2. */
interface Request extends RawRequest {
  method: 'GET' | 'POST' | 'DELETE';
}

// Each case sends its bytes through three processes and compares the answers: on a busy machine that
// takes longer than jest's 5 s default, and a test here must not depend on the machine's speed.
jest.setTimeout(120_000);

let stack: Stack;
const logs: Array<{ service: string; line: string }> = [];

beforeAll(async () => {
  stack = await startTestStack({
    thumbnails: 'lambda',
    logLevel: 'info',
    log: (service, line) => logs.push({ service, line }),
  });
}, 120_000);
afterAll(() => stack?.stop());

const viaBackend = (request: Request) => sendRaw(stack.url('backend'), request);
const viaFrontend = (request: Request) =>
  sendRaw(stack.url('frontend'), { ...request, path: `/api${request.path}` });
const viaLambda = (request: Request) =>
  sendRaw(stack.url('lambda'), { ...request, path: `/Prod${request.path}` });

/** What must be equal: a created product's id and time are the store's, so they become placeholders. */
function comparable({ status, contentType, body }: RawAnswer) {
  if (status !== 201) return { status, contentType, body };
  const { id, createdAt, ...rest } = JSON.parse(body) as Record<string, unknown>;
  expect(typeof id).toBe('string');
  expect(typeof createdAt).toBe('string');
  return { status, contentType, body: JSON.stringify({ id: '<id>', ...rest, createdAt: '<createdAt>' }) };
}

/** The three answers, which must be the same; returns the backend's, body parsed. */
async function expectSame(request: Request, status: number) {
  const backend = comparable(await viaBackend(request));
  expect(comparable(await viaLambda(request))).toEqual(backend);
  expect(comparable(await viaFrontend(request))).toEqual(backend);
  expect(backend.status).toBe(status);
  if (backend.body !== '') expect(backend.contentType).toBe('application/json; charset=utf-8');
  return backend.body === '' ? undefined : (JSON.parse(backend.body) as Record<string, unknown>);
}

const json = { 'content-type': 'application/json' };
const create = (body: string | Buffer, headers: Record<string, string> = json): Request => ({
  method: 'POST',
  path: '/products',
  body,
  headers,
});
const named = (name: string) => JSON.stringify({ name, price: 1 });

describe('products: the Lambda answers as the Express backend does, directly and through the frontend', () => {
  it('creates a product (201)', async () => {
    const product = await expectSame(create('{"name":"Laptop","price":999.99}'), 201);
    expect(product).toEqual({ id: '<id>', name: 'Laptop', price: 999.99, createdAt: '<createdAt>' });
  });

  it.each([['text/plain'], ['application/octet-stream'], ['text/plain; charset=utf-8']])(
    'reads a %s body as the same JSON',
    async (contentType) => {
      await expectSame(create('{"name":"Mouse","price":25}', { 'content-type': contentType }), 201);
    },
  );

  it('reads a body without a content type, and one with a byte order mark', async () => {
    await expectSame(create('{"name":"Mouse","price":25}', {}), 201);
    await expectSame(create(Buffer.from('\ufeff{"name":"Mouse","price":25}')), 201);
  });

  it('lists, pages and gets the same products', async () => {
    const list = (await expectSame({ method: 'GET', path: '/products' }, 200)) as {
      items: Array<{ id: string }>;
    };
    expect(list.items.length).toBeGreaterThanOrEqual(5);
    const page = (await expectSame({ method: 'GET', path: '/products?limit=2' }, 200)) as {
      items: unknown[];
      nextCursor: string;
    };
    expect(page.items).toHaveLength(2);
    await expectSame({ method: 'GET', path: `/products?limit=2&cursor=${page.nextCursor}` }, 200);
    const [first] = list.items;
    expect(await expectSame({ method: 'GET', path: `/products/${first?.id}` }, 200)).toEqual(first);
    await expectSame({ method: 'GET', path: `/products/${first?.id.toUpperCase()}` }, 200);
  });

  it('answers 404 for a product that does not exist', async () => {
    const id = randomUUID();
    expect(await expectSame({ method: 'GET', path: `/products/${id}` }, 404)).toEqual({
      error: `product ${id} not found`,
    });
    await expectSame({ method: 'DELETE', path: `/products/${id}` }, 404);
  });

  it('deletes (204, no body)', async () => {
    const ids = await Promise.all(
      [viaBackend, viaLambda, viaFrontend].map(async (via) => {
        const created = JSON.parse((await via(create(named('to delete')))).body) as { id: string };
        return created.id;
      }),
    );
    const answers = await Promise.all(
      [viaBackend, viaLambda, viaFrontend].map((via, i) =>
        via({ method: 'DELETE', path: `/products/${ids[i]}` }),
      ),
    );
    expect(answers.map(({ status, body }) => [status, body])).toEqual([
      [204, ''],
      [204, ''],
      [204, ''],
    ]);
    for (const id of ids) await expectSame({ method: 'GET', path: `/products/${id}` }, 404);
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
    // Names nobody can see, that reorder what surrounds them, or that hide control characters.
    [
      'a name of zero-width spaces',
      named('\u200b\u200b'),
      400,
      { error: 'name: must contain a visible character', field: 'name' },
    ],
    [
      'a name that is a Hangul filler',
      named('\u3164'),
      400,
      { error: 'name: must contain a visible character', field: 'name' },
    ],
    [
      'a name with a right-to-left override',
      named('invoice\u202egpj.exe'),
      400,
      { error: 'name: must not contain bidirectional overrides', field: 'name' },
    ],
    [
      'a name with a newline',
      named('two\nlines'),
      400,
      { error: 'name: must not contain control characters', field: 'name' },
    ],
    [
      'a name of 201 emoji',
      named('😀'.repeat(201)),
      400,
      { error: 'name: must be at most 200 characters', field: 'name' },
    ],
  ])('rejects %s', async (_what, body, status, error) => {
    expect(await expectSame(create(body), status)).toEqual(error);
  });

  it('counts a name in the characters a person sees, and stores it composed (NFC)', async () => {
    const family = '👨‍👩‍👧‍👦'; // 7 code points, 1 character
    expect((await expectSame(create(named(family.repeat(40))), 201))?.name).toBe(family.repeat(40));
    expect((await expectSame(create(named('Cafe\u0301')), 201))?.name).toBe('Caf\u00e9');
  });

  it('refuses a body that is not UTF-8 rather than store U+FFFD', async () => {
    // {"name":"café latin1","price":1} in ISO-8859-1, as `printf '...caf\xe9...'` sends it.
    const latin1 = Buffer.concat([
      Buffer.from('{"name":"caf'),
      Buffer.from([0xe9]),
      Buffer.from(' latin1","price":1}'),
    ]);
    for (const contentType of [
      'application/json',
      'text/plain; charset=iso-8859-1',
      'application/octet-stream',
    ]) {
      expect(await expectSame(create(latin1, { 'content-type': contentType }), 400)).toEqual({
        error: 'request body is not valid UTF-8',
      });
    }
  });

  it('refuses a compressed body (415) rather than inflate it', async () => {
    const gzipped = gzipSync('{"name":"Laptop","price":1}');
    expect(await expectSame(create(gzipped, { ...json, 'content-encoding': 'gzip' }), 415)).toEqual({
      error: 'request body must be sent without a content encoding',
    });
  });

  it('rejects a POST without a body', async () => {
    await expectSame({ method: 'POST', path: '/products' }, 400);
  });

  it.each([
    ['GET', '/products/not-a-uuid'],
    ['DELETE', '/products/not-a-uuid'],
    ['GET', '/products/3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6'],
    ['GET', '/products/a%2Fb'],
  ] as const)('rejects a bad id: %s %s', async (method, path) => {
    expect(await expectSame({ method, path }, 400)).toEqual({ error: 'id: must be a UUID', field: 'id' });
  });

  it.each([
    ['/products?limit=0', 'limit: must be at least 1', 'limit'],
    ['/products?limit=101', 'limit: must be at most 100', 'limit'],
    ['/products?limit=abc', 'limit: must be a number', 'limit'],
    ['/products?limit=1.5', 'limit: must be an integer', 'limit'],
    ['/products?limit=', 'limit: must be at least 1', 'limit'],
    ['/products?limit=1&limit=2', 'limit: must be given once', 'limit'],
    ['/products?cursor=a&cursor=b', 'cursor: must be given once', 'cursor'],
    ['/products?cursor=not-a-cursor', 'cursor: is not a cursor returned by this API', 'cursor'],
    ['/products?cursor=', 'cursor: is not a cursor returned by this API', 'cursor'],
    [`/products?cursor=${'a'.repeat(3000)}`, 'cursor: is too long', 'cursor'],
  ])('rejects a bad page query: %s', async (path, error, field) => {
    expect(await expectSame({ method: 'GET', path }, 400)).toEqual({ error, field });
  });
});

describe('a cursor the API never issued', () => {
  it('is a 400 naming the cursor, in every shell, and not an outage in the logs', async () => {
    const before = logs.length;
    // base64url of {"id":""}: DynamoDB refuses such a start key; it used to answer 503 (502 via the frontend).
    for (const cursor of ['eyJpZCI6IiJ9', Buffer.from('{"createdAt":"","id":""}').toString('base64url')]) {
      expect(await expectSame({ method: 'GET', path: `/products?limit=2&cursor=${cursor}` }, 400)).toEqual({
        error: 'cursor: is not a cursor returned by this API',
        field: 'cursor',
      });
    }
    const errors = logs.slice(before).filter(({ line }) => /"level":"(error|fatal)"/.test(line));
    expect(errors).toEqual([]);
  });
});

describe('newest first, for real', () => {
  it('lists the newest product first, across pages, the same in every shell', async () => {
    const shells = [viaBackend, viaLambda, viaFrontend];
    const created: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      const answer = await shells[i % 3]!(create(named(`newest-first ${i}`)));
      created.push((JSON.parse(answer.body) as { id: string }).id);
    }
    const walks = await Promise.all(
      shells.map(async (via) => {
        const items: Array<{ id: string; createdAt: string }> = [];
        let cursor: string | undefined;
        do {
          const answer = await via({
            method: 'GET',
            path: `/products?limit=7${cursor ? `&cursor=${cursor}` : ''}`,
          });
          expect(answer.status).toBe(200);
          const page = JSON.parse(answer.body) as { items: typeof items; nextCursor?: string };
          items.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor);
        return items;
      }),
    );
    expect(walks[1]).toEqual(walks[0]);
    expect(walks[2]).toEqual(walks[0]);
    const ids = walks[0]!.map((item) => item.id);
    // The products just made, newest first, ahead of everything older.
    expect(ids.slice(0, 30)).toEqual([...created].reverse());
    const times = walks[0]!.map((item) => item.createdAt);
    expect(times).toEqual([...times].sort().reverse());
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('traceresponse', () => {
  it('names no trace when the services record none (tracing off, as npm start runs them)', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    for (const via of [viaBackend, viaFrontend]) {
      const answer = await via({ method: 'GET', path: '/products?limit=1', headers: { traceparent } });
      expect(answer.status).toBe(200);
      expect(answer.headers.traceresponse).toBeUndefined();
    }
  });
});

describe('configuration', () => {
  it('stops a service whose settings are wrong at start, with the hint for an absent region', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', TABLE_NAME: 'products' };
    delete env.AWS_REGION;
    const result = spawnSync(process.execPath, ['dist/main.js'], {
      cwd: path.join(LAMBDA_DIR, '..', 'services', 'backend'),
      env,
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      'invalid configuration:\n  AWS_REGION: is required (any value for dynalite or dynamodb-local)\n',
    );
  });

  it("stops a function whose settings are wrong at init, naming the variable in the project's words", () => {
    const result = spawnSync(
      process.execPath,
      [requireBuilt('invoke.js'), 'products', 'events/list-products.json'],
      {
        cwd: LAMBDA_DIR,
        // The stack's dynalite answers, so the CLI's store check passes and the function's init runs.
        env: {
          ...process.env,
          AWS_ENDPOINT_URL_DYNAMODB: stack.url('dynamodb'),
          TABLE_NAME: 'no spaces allowed',
          LOG_LEVEL: 'loud',
        },
        encoding: 'utf8',
      },
    );
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      errorType: 'ConfigError',
      errorMessage: [
        'invalid configuration:',
        '  LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
        '  TABLE_NAME: must be 3 to 255 letters, digits, _, - or . (a DynamoDB table name)',
      ].join('\n'),
    });
  });
});
