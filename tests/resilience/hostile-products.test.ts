// Property-based tests of the products API's two shells, the Express backend and the Lambda
// handler, on a real DynamoDB API (dynalite): whatever arrives, the answer is 201 or a 4xx with a
// JSON error, never a 5xx, and nothing invalid is ever stored.
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import fc from 'fast-check';
import { createLogger } from '@twin/observability';
import {
  checkTable,
  createProductsApi,
  MAX_NAME_LENGTH,
  MAX_PRODUCT_BODY_BYTES,
  type Product,
  type ProductKey,
  ProductStore,
} from '@twin/products';
import { createBackendApp } from '../../services/backend/src/app';
import { ApiRouter, buildProxyEvent } from '../../lambda/src/emulator/api-gateway';
import { loadTemplate } from '../../lambda/src/template/template';
import { startTestDynamo, type TestDynamo } from '../support/dynamo';
import { sendRaw } from '../support/raw-http';
import { expectNoLeak } from './support';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** The largest number the store keeps exactly (lib-dynamodb refuses larger ones). */
const MAX_PRICE = Number.MAX_SAFE_INTEGER;
/** The smallest magnitude DynamoDB stores (1E-130); anything smaller underflows. */
const MIN_POSITIVE_PRICE = 1e-130;

let dynamo: TestDynamo;
let store: ProductStore;
let server: Server;
let backend: string;
let lambda: Handler;
const template = loadTemplate();
const router = new ApiRouter(template.functions, template.api);

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const table = await dynamo.table();
  store = new ProductStore(dynamo.db, table);
  const app = createBackendApp({
    api: createProductsApi(store),
    version: '1.0.0',
    logger: createLogger('hostile-products', 'silent'),
    faults: { delayMs: 0, errorRate: 0, errorStatus: 503 },
    ready: () => checkTable(dynamo.client, table),
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  backend = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // As a Lambda container starts: the variables first, then the handler module.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    TABLE_NAME: table,
    LOG_LEVEL: 'silent',
  });
  ({ handler: lambda } = jest.requireActual<{ handler: Handler }>(
    path.resolve(__dirname, '../../lambda/src/handlers/products'),
  ));
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await dynamo?.close();
});

// --- what may be stored, and what must be accepted: the rules, restated independently

const LONE_SURROGATE = /\p{Cs}/u;
const CONTROL = /\p{Cc}/u;
const BIDI_OVERRIDE = /[\u202A-\u202E\u2066-\u2069]/u;
const VISIBLE = /(?!\p{Default_Ignorable_Code_Point})[\p{L}\p{N}\p{P}\p{S}]/u;
const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });
/** Names are measured in the characters a person sees: grapheme clusters. */
const characters = (text: string) => [...segmenter.segment(text)].length;

/** Whether a name, as stored (NFC, trimmed), is one the API may hold. */
function nameProblem(name: string): string | undefined {
  if (name !== name.normalize('NFC') || name !== name.trim() || name.length < 1) return 'name not normalised';
  if (characters(name) > MAX_NAME_LENGTH || LONE_SURROGATE.test(name)) return 'name too long or ill-formed';
  if (CONTROL.test(name) || BIDI_OVERRIDE.test(name) || !VISIBLE.test(name)) return 'name not visible text';
  return undefined;
}

/** Whether a stored (or answered) product is one the API may ever hold. */
function productProblem(value: unknown): string | undefined {
  const p = value as Partial<Product>;
  if (!p || typeof p !== 'object') return 'not an object';
  if (Object.keys(p).sort().join() !== 'createdAt,id,name,price') return `fields ${Object.keys(p).join()}`;
  if (typeof p.name !== 'string') return 'name not a string';
  const problem = nameProblem(p.name);
  if (problem) return problem;
  if (typeof p.price !== 'number' || !Number.isFinite(p.price) || p.price < 0 || p.price > MAX_PRICE)
    return `price ${p.price}`;
  if (p.price !== 0 && p.price < MIN_POSITIVE_PRICE) return `price ${p.price} underflows`;
  if (!/^[0-9a-f-]{36}$/.test(p.id ?? '') || Number.isNaN(Date.parse(p.createdAt ?? ''))) return 'id or date';
  return undefined;
}

/** The oracle: the body text (as the API receives it) is a product the API must accept. */
function acceptable(text: string | undefined): boolean {
  if (text === undefined || Buffer.byteLength(text) > MAX_PRODUCT_BODY_BYTES) return false;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return false;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return false;
  const { name, price, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || typeof name !== 'string' || typeof price !== 'number') return false;
  return (
    nameProblem(name.normalize('NFC').trim()) === undefined &&
    Number.isFinite(price) &&
    price >= 0 &&
    price <= MAX_PRICE &&
    (price === 0 || price >= MIN_POSITIVE_PRICE)
  );
}

/**
 * The text a UTF-8 body stands for, a byte order mark dropped (RFC 8259 lets a parser ignore it),
 * or undefined when the bytes are not UTF-8 (JSON must be).
 */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

// --- inputs

const names = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', minLength: 190, maxLength: 210 }),
  fc.constantFrom('Laptop', '  padded  ', ' ', '', '\u0000', '\ud800', 'a\udfff', '😀'.repeat(101)),
  // Invisible, reordering, composed and long-in-code-points names.
  fc.constantFrom('\u200b\u200b', '\u3164', 'a\u202eb', 'Cafe\u0301', '👨‍👩‍👧‍👦'.repeat(40), '😀'.repeat(201)),
  fc.jsonValue({ maxDepth: 1 }),
);
const prices = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, 0.01, 999.99, 1e-131, 1e-130, 5e-324, 1e200, MAX_PRICE, MAX_PRICE + 2, 1e21, -1),
  fc.jsonValue({ maxDepth: 1 }),
);
/** Something shaped like a product, with fields missing, mistyped, out of range or extra. */
const productish = fc
  .tuple(
    fc.record({ name: names, price: prices }, { requiredKeys: [] }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
    fc.boolean(),
  )
  .map(([fields, extra, withExtra]) => JSON.stringify(withExtra ? { ...extra, ...fields } : fields));
/** Any body at all, as bytes. */
const bodies = fc.oneof(
  productish.map((text) => Buffer.from(text)),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? '')),
  fc.string({ unit: 'binary', maxLength: 200 }).map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  // Around the size limit.
  fc
    .integer({ min: MAX_PRODUCT_BODY_BYTES - 40, max: MAX_PRODUCT_BODY_BYTES + 40 })
    .map((size) => Buffer.from(JSON.stringify({ name: 'x'.repeat(size - 25), price: 1 }))),
);
const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  undefined,
);

/** Inputs that broke the API once, always tried first. */
const KNOWN: Array<[Buffer, string | undefined]> = [
  // Stored as U+FFFD before bodies had to be valid UTF-8.
  [
    Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","price":1}')]),
    'application/json',
  ],
  // 503 "product store is unavailable" before prices were bounded: DynamoDB underflow and lib-dynamodb's
  // refusal of numbers beyond the safe integers.
  [Buffer.from('{"name":"!","price":1e-131}'), 'application/json'],
  [Buffer.from('{"name":"a","price":5e-324}'), 'application/json'],
  [Buffer.from('{"name":"a","price":1e200}'), 'text/plain'],
  // A lone surrogate was stored as it came.
  [Buffer.from('{"name":"\\ud800","price":1}'), 'application/json'],
];

// --- checks shared by both shells

interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
}

/**
 * `text` is the body as the API receives it (undefined when its bytes are not UTF-8), `bytes` its
 * size on the wire.
 */
async function checkAnswer(
  answer: Answer,
  text: string | undefined,
  bytes: number,
  input: unknown,
): Promise<void> {
  const context = `input ${JSON.stringify(input)?.slice(0, 300)} -> ${answer.status} ${answer.body.slice(0, 200)}`;
  expectNoLeak(answer.body, context);
  if (![201, 400, 413].includes(answer.status)) throw new Error(`unexpected status: ${context}`);
  if ((answer.status === 413) !== bytes > MAX_PRODUCT_BODY_BYTES)
    throw new Error(`size ${bytes}: ${context}`);
  expect(answer.contentType).toMatch(/^application\/json/);
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  if (answer.status === 201) {
    const problem = productProblem(body);
    if (problem) throw new Error(`answered an invalid product (${problem}): ${context}`);
    expect(await store.get(body.id as string)).toEqual(body);
  } else {
    expect(typeof body.error).toBe('string');
    expect(Object.keys(body).every((key) => key === 'error' || key === 'field')).toBe(true);
  }
  if ((answer.status === 201) !== acceptable(text)) throw new Error(`oracle disagrees: ${context}`);
}

/**
 * One POST on a connection of its own: reusing an idle keep-alive connection races the server's
 * keep-alive timeout on a busy machine, and a POST that loses the race is reset, not answered.
 */
async function viaBackend(bytes: Buffer, contentType: string | undefined): Promise<Answer> {
  const {
    status,
    contentType: type,
    body,
  } = await sendRaw(backend, {
    method: 'POST',
    path: '/products',
    headers: contentType ? { 'content-type': contentType } : {},
    body: bytes,
  });
  return { status, contentType: type, body };
}

async function viaLambda(event: APIGatewayProxyEvent): Promise<Answer> {
  const result = await lambda(event, {} as Context);
  const contentType = result.headers?.['content-type'];
  return { status: result.statusCode, contentType: contentType as string | undefined, body: result.body };
}

function apiGatewayEvent(bytes: Buffer, contentType: string | undefined): APIGatewayProxyEvent {
  const match = router.match('POST', '/products')!;
  const rawHeaders = ['Host', 'localhost', 'Content-Length', String(bytes.length)];
  if (contentType) rawHeaders.push('Content-Type', contentType);
  return buildProxyEvent(
    { method: 'POST', url: '/products', rawHeaders, body: bytes, sourceIp: '127.0.0.1' },
    match,
    'test',
  );
}

/** The text the handler receives in an event: API Gateway's string, or the bytes it base64-encoded. */
function eventText(event: APIGatewayProxyEvent): string | undefined {
  if (event.body === null) return undefined;
  return event.isBase64Encoded ? utf8(Buffer.from(event.body, 'base64')) : event.body;
}

function eventBytes(event: APIGatewayProxyEvent): number {
  if (event.body === null) return 0;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').length : Buffer.byteLength(event.body);
}

describe('POST /products with hostile bodies (fast-check)', () => {
  it('the backend answers 201 or 400/413 with a JSON error, never a 5xx, and stores only valid products', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, contentTypes, async (bytes, contentType) => {
        const text = utf8(bytes);
        const input = { body: bytes.toString('base64'), contentType };
        await checkAnswer(await viaBackend(bytes, contentType), text, bytes.length, input);
      }),
      { numRuns: 400, examples: KNOWN },
    );
  }, 600_000);

  it('the Lambda handler does the same for every API Gateway event', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, contentTypes, async (bytes, contentType) => {
        const event = apiGatewayEvent(bytes, contentType);
        const input = { body: event.body, contentType };
        await checkAnswer(await viaLambda(event), eventText(event), eventBytes(event), input);
      }),
      { numRuns: 400, examples: [...KNOWN, [KNOWN[0]![0], 'application/octet-stream']] },
    );
  }, 600_000);

  it('the Lambda handler survives any string or base64 body in the event itself', async () => {
    const events = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }).map((body) => ({ body, isBase64Encoded: false })),
      productish.map((body) => ({ body, isBase64Encoded: false })),
      fc.uint8Array({ maxLength: 300 }).map((bytes) => ({
        body: Buffer.from(bytes).toString('base64'),
        isBase64Encoded: true,
      })),
      fc.constant({ body: null, isBase64Encoded: false }),
    );
    await fc.assert(
      fc.asyncProperty(events, async ({ body, isBase64Encoded }) => {
        const event = { ...apiGatewayEvent(Buffer.alloc(0), 'application/json'), body, isBase64Encoded };
        const answer = await viaLambda(event);
        await checkAnswer(answer, eventText(event), eventBytes(event), { body, isBase64Encoded });
      }),
      { numRuns: 300 },
    );
  }, 600_000);

  it('both shells give the same answer to the same JSON text', async () => {
    const strip = (answer: Answer) => {
      if (answer.status !== 201) return answer;
      const { id: _id, createdAt: _createdAt, ...rest } = JSON.parse(answer.body) as Record<string, unknown>;
      return { ...answer, body: JSON.stringify(rest) };
    };
    await fc.assert(
      fc.asyncProperty(productish, async (text) => {
        const bytes = Buffer.from(text);
        const [express, aws] = [
          strip(await viaBackend(bytes, 'application/json')),
          strip(await viaLambda(apiGatewayEvent(bytes, 'application/json'))),
        ];
        expect(aws).toEqual(express);
      }),
      { numRuns: 200 },
    );
  }, 600_000);

  it('left nothing invalid in the table', async () => {
    const items: Product[] = [];
    let after: ProductKey | undefined;
    do {
      const page = await store.list(100, after);
      items.push(...page.items);
      after = page.last;
    } while (after);
    expect(items.length).toBeGreaterThan(0);
    expect(items.map(productProblem).filter(Boolean)).toEqual([]);
  });
});
