// Property-based tests of the products API through real processes (the local stack): whatever
// method, path, query string, headers and body a client sends, the backend, the frontend that
// relays it and the Lambda handler behind the API Gateway emulation answer below 500, with a JSON
// body that leaks nothing; and the two shells give the same answer to the same request.
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { Stack } from '../../local/src';
import { type RawAnswer, type RawRequest, sendRaw } from '../support/raw-http';
import { startTestStack } from '../support/stack';
import { expectNoLeak } from './support';

/** A request under the products API, e.g. GET /products?limit=2. */
interface Request extends RawRequest {
  headers: Record<string, string>;
  body?: Buffer;
}

let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack({ thumbnails: 'lambda' });
}, 120_000);
afterAll(() => stack?.stop());

const targets = {
  backend: (request: Request) => sendRaw(stack.url('backend'), request),
  frontend: (request: Request) => sendRaw(stack.url('frontend'), { ...request, path: `/api${request.path}` }),
  lambda: (request: Request) => sendRaw(stack.url('lambda'), { ...request, path: `/Prod${request.path}` }),
};

// --- inputs: what may go on a request line, percent-escapes good and bad

const UNRESERVED = 'abcdefXYZ0189-._~';
const SUB_DELIMS = "!$&'()*+,;=:@";
/** A percent-escape: of a byte (valid UTF-8 on its own or not), or broken. */
const escape = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((byte) => `%${byte.toString(16).padStart(2, '0')}`),
  fc.constantFrom('%', '%z', '%zz', '%c3%28', '%e2%82', '%f0%9f%98%80', '%2F', '%2f', '%00', '%0a'),
);
/** Text that survives a request line: printable ASCII with escapes, `/` kept out of a segment. */
const lineText = (extra: string) =>
  fc
    .array(fc.oneof(fc.constantFrom(...(UNRESERVED + SUB_DELIMS + extra).split('')), escape), {
      maxLength: 40,
    })
    .map((parts) => parts.join(''));
/** Percent-encoded UTF-8 of any string: what a client that encodes properly sends. */
const encoded = fc.string({ unit: 'binary', maxLength: 30 }).map((text) => encodeURIComponent(text));

const segment = fc.oneof(
  fc.uuid(),
  fc.uuid().map((id) => id.toUpperCase()),
  encoded,
  lineText(''),
  fc.constantFrom('..', '.', '%2e%2e', 'null', '{id}'),
);
const queryValue = fc.oneof(
  fc.integer({ min: -5, max: 200 }).map(String),
  fc.constantFrom('', '1e2', '0x10', 'NaN', 'Infinity', '%205', '5%20', '+5', 'eyJpZCI6IiJ9'),
  fc
    .base64String({ maxLength: 120 })
    .map((text) => text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')),
  encoded,
  lineText('/?'),
);
const query = fc
  .array(
    fc.tuple(
      fc.constantFrom('limit', 'cursor', 'limit', 'cursor', 'x', 'cursor[a]', ''),
      queryValue,
      fc.boolean(),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => pairs.map(([key, value, bare]) => (bare && !value ? key : `${key}=${value}`)).join('&'));

const path = fc.oneof(
  fc.constant('/products'),
  fc.constant('/products/'),
  segment.map((s) => `/products/${s}`),
  fc.tuple(segment, segment).map(([a, b]) => `/products/${a}/${b}`),
);

const bodies = fc.oneof(
  fc.constant(undefined),
  fc
    .record(
      {
        name: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 1 })),
        price: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: [] },
    )
    .map((value) => Buffer.from(JSON.stringify(value))),
  fc.jsonValue({ maxDepth: 2 }).map((value) => Buffer.from(JSON.stringify(value) ?? '')),
  fc.uint8Array({ maxLength: 120 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(gzipSync('{"name":"zipped","price":1}')),
  fc.integer({ min: 16 * 1024 - 8, max: 16 * 1024 + 8 }).map((size) => Buffer.alloc(size, ' ')),
);

const headers = fc
  .record(
    {
      'content-type': fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain; charset=iso-8859-1',
        'application/octet-stream',
        'multipart/form-data; boundary=x',
        'nonsense',
      ),
      'content-encoding': fc.constantFrom('gzip', 'identity', 'br, gzip', 'nonsense'),
      accept: fc.constantFrom('application/json', 'image/png', '*/*'),
      traceparent: fc.constantFrom('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'garbage'),
    },
    { requiredKeys: [] },
  )
  .map((record) => record as Record<string, string>);

const requests = fc
  .record({
    method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH'),
    path,
    query,
    headers,
    body: bodies,
  })
  .map(({ method, path, query, headers, body }) => ({
    method,
    path: query ? `${path}?${query}` : path,
    headers,
    body: method === 'GET' || method === 'DELETE' ? undefined : body,
  }));

/** Inputs that broke the API once, always tried first. */
const KNOWN: Request[] = [
  // A cursor the API never issued (base64url of {"id":""}): 503 from the shells, 502 from the frontend.
  { method: 'GET', path: '/products?limit=2&cursor=eyJpZCI6IiJ9', headers: {} },
  // A repeated cursor: zod's own message.
  { method: 'GET', path: '/products?cursor=a&cursor=b', headers: {} },
  // ISO-8859-1 "café": stored as U+FFFD by the Lambda.
  {
    method: 'POST',
    path: '/products',
    headers: { 'content-type': 'application/json' },
    body: Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('","price":1}')]),
  },
];

function checkAnswer(target: string, request: Request, answer: RawAnswer): void {
  const context = `${target}: ${request.method} ${request.path} ${JSON.stringify(request.headers)} ${request.body?.toString('base64') ?? ''} -> ${answer.status} ${answer.body.slice(0, 200)}`;
  if (answer.status >= 500 || answer.status < 200) throw new Error(`answered ${answer.status}: ${context}`);
  expectNoLeak(answer.body, context);
  // The frontend also serves the web page: a path that resolves to one of its folders
  // (/api/products/../..) is redirected there, as a static file server does.
  if (target === 'frontend' && answer.status >= 300 && answer.status < 400) return;
  if (answer.body === '') {
    if (answer.status !== 204) throw new Error(`empty body: ${context}`);
    return;
  }
  if (!/^application\/json/.test(answer.contentType ?? '')) throw new Error(`not JSON: ${context}`);
  JSON.parse(answer.body);
}

/** What both shells must agree on: a created product's id and time are the store's own. */
function comparable({ status, contentType, body }: RawAnswer) {
  if (status !== 201) return { status, contentType, body };
  const { id: _id, createdAt: _createdAt, ...rest } = JSON.parse(body) as Record<string, unknown>;
  return { status, contentType, body: JSON.stringify(rest) };
}

describe('any request to the products API (fast-check, real processes)', () => {
  it('gets an answer below 500 with a JSON body that leaks nothing, from the backend, the frontend and the Lambda', async () => {
    await fc.assert(
      fc.asyncProperty(requests, async (request) => {
        for (const [target, via] of Object.entries(targets)) checkAnswer(target, request, await via(request));
      }),
      { numRuns: 250, examples: KNOWN.map((request) => [request]) },
    );
  }, 600_000);

  it('gets the same answer from both shells for every request on the routes they share', async () => {
    const routes = requests.filter((request) =>
      /^\/products\/?(\?|$)/.test(request.path)
        ? ['GET', 'POST'].includes(request.method)
        : /^\/products\/[^/?]+(\?|$)/.test(request.path) && ['GET', 'DELETE'].includes(request.method),
    );
    await fc.assert(
      fc.asyncProperty(routes, async (request) => {
        const backend = comparable(await targets.backend(request));
        expect(comparable(await targets.lambda(request))).toEqual(backend);
      }),
      { numRuns: 250, examples: KNOWN.map((request) => [request]) },
    );
  }, 600_000);
});
