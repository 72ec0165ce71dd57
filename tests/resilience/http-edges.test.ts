// Hostile requests, one by one, against the running local stack (each service a real process):
// huge headers, wrong content types, invalid UTF-8 in bodies and URLs, decompression bombs, bodies
// over each route's limit. Every answer is a 4xx (or a safe success), never a stack trace, and every
// service is still alive afterwards. Also: the security headers on every service.
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Stack } from '../../local/src';
import { startTestStack } from '../support/stack';
import { decompressionBombPng, sampleImage } from '../../packages/thumbnails/tests/fixtures';
import { call, expectNoLeak, mib, report, rssKiB } from './support';

const UPLOAD_MAX_BYTES = 1024 * 1024;
const EXPRESS_SERVICES = ['frontend', 'backend', 'thumbnailer'] as const;

let stack: Stack;
const url = (service: string, path: string) => `${stack.url(service)}${path}`;

beforeAll(async () => {
  stack = await startTestStack({ env: { UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES) } });
}, 60_000);
afterAll(() => stack?.stop());

/** Sends raw bytes over a new connection and returns whatever comes back before it closes. */
function raw(service: string, request: Buffer): Promise<string> {
  const { port } = new URL(stack.url(service));
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      // The server may close while the rest of an oversized request is still being written.
      err.code === 'ECONNRESET' || err.code === 'EPIPE'
        ? resolve(Buffer.concat(chunks).toString('latin1'))
        : reject(err),
    );
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(request);
  });
}

async function expectAlive(): Promise<void> {
  for (const service of EXPRESS_SERVICES) expect((await call(url(service, '/healthz'))).status).toBe(200);
  expect((await call(url('lambda', '/__emulator/ready'))).status).toBe(200);
  for (const service of stack.services.values()) expect(service.running).toBe(true);
}

/** A JSON 4xx without internals: what every refusal must look like. */
function expectJsonError(answer: { status: number; headers: Headers; text: string }, status: number): void {
  expectNoLeak(answer.text);
  expect({ status: answer.status, type: answer.headers.get('content-type') }).toEqual({
    status,
    type: expect.stringMatching(/^application\/json/),
  });
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  expect(typeof (body.error ?? body.message)).toBe('string');
}

const json = { 'content-type': 'application/json' };

describe('huge headers', () => {
  it.each(['frontend', 'backend', 'thumbnailer', 'lambda'])(
    '%s answers 431 to 64 KiB of headers and keeps serving',
    async (service) => {
      const request = Buffer.from(
        `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\nConnection: close\r\n\r\n`,
      );
      const answer = await raw(service, request);
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      expectNoLeak(answer);
      const many = Array.from({ length: 2000 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
      expect(await raw(service, Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\n${many}\r\n`))).toMatch(
        /^HTTP\/1\.1 431 /,
      );
      await expectAlive();
    },
  );
});

describe('wrong content types on JSON routes', () => {
  const xml = '<?xml version="1.0"?><product><name>Laptop</name><price>1</price></product>';
  const form = () => {
    const data = new FormData();
    data.append('name', 'Laptop');
    data.append('price', '1');
    return data;
  };

  it.each([
    ['frontend', '/api/products'],
    ['backend', '/products'],
    ['lambda', '/products'],
  ])(
    '%s %s: XML and multipart bodies get 400; JSON sent as text/plain is still JSON',
    async (service, path) => {
      expectJsonError(
        await call(url(service, path), {
          method: 'POST',
          headers: { 'content-type': 'application/xml' },
          body: xml,
        }),
        400,
      );
      expectJsonError(await call(url(service, path), { method: 'POST', body: form() }), 400);
      expectJsonError(
        await call(url(service, path), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'name=Laptop&price=1',
        }),
        400,
      );
      // The API reads JSON whatever the label, as API Gateway hands the Lambda any body as text.
      const plain = await call(url(service, path), {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '{"name":"labelled as text","price":1}',
      });
      expect(plain.status).toBe(201);
    },
  );

  it('thumbnailer POST /events: XML, multipart and form bodies get 400', async () => {
    expectJsonError(
      await call(url('thumbnailer', '/events'), {
        method: 'POST',
        headers: { 'content-type': 'application/xml' },
        body: xml,
      }),
      400,
    );
    expectJsonError(await call(url('thumbnailer', '/events'), { method: 'POST', body: form() }), 400);
  });

  it('frontend POST /api/images: JSON, text, and multipart without a boundary get 400', async () => {
    const images = url('frontend', '/api/images');
    expectJsonError(await call(images, { method: 'POST', headers: json, body: '{"file":"x"}' }), 400);
    expectJsonError(
      await call(images, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }),
      400,
    );
    // 500 "internal error" before the parser's own errors were mapped to 400.
    expectJsonError(
      await call(images, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'x' }),
      400,
    );
    expectJsonError(
      await call(images, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=b' },
        body: '--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nunterminated',
      }),
      400,
    );
  });
});

describe('invalid UTF-8', () => {
  const body = Buffer.concat([
    Buffer.from('{"name":"'),
    Buffer.from([0xc3, 0x28, 0xff]),
    Buffer.from('","price":1}'),
  ]);

  it.each([
    ['frontend', '/api/products', 'application/json'],
    ['backend', '/products', 'application/json'],
    ['backend', '/products', 'text/plain'],
    ['thumbnailer', '/events', 'application/json'],
    // API Gateway base64-encodes a body of a binary type; the handler refuses what is not UTF-8.
    ['lambda', '/products', 'application/octet-stream'],
  ])(
    '%s %s (%s) refuses a JSON body that is not UTF-8 with 400, storing nothing',
    async (service, path, type) => {
      const before = (await call(url('backend', '/products?limit=100'))).text;
      const answer = await call(url(service, path), {
        method: 'POST',
        headers: { 'content-type': type },
        body: new Uint8Array(body),
      });
      expectJsonError(answer, 400);
      expect(JSON.parse(answer.text)).toEqual({ error: 'request body is not valid UTF-8' });
      expect((await call(url('backend', '/products?limit=100'))).text).toBe(before);
    },
  );

  const notUuid = { error: 'id: must be a UUID', field: 'id' };
  const notImage = { error: 'id: is not an image id', field: 'id' };
  it.each([
    ['frontend', 'GET', '/api/products/%ff', notUuid],
    ['frontend', 'DELETE', '/api/products/%ff', notUuid],
    ['frontend', 'GET', '/api/products/%E0%A4%A', notUuid],
    ['frontend', 'GET', '/api/images/%ff', notImage],
    ['frontend', 'GET', '/api/images/%ff/thumbnail', notImage],
    ['backend', 'GET', '/products/%ff', notUuid],
    ['backend', 'DELETE', '/products/%', notUuid],
    ['lambda', 'GET', '/products/%ff', notUuid],
    ['lambda', 'GET', '/Prod/products/%c0%af', notUuid],
  ])(
    '%s %s %s answers 400 naming the parameter that does not decode',
    async (service, method, path, error) => {
      // 500 "internal error" on the Express services before the router's decoding error became 400;
      // then a 400 of their own, where the Lambda shell's answer named the id.
      const answer = await call(url(service, path), { method });
      expectJsonError(answer, 400);
      expect(JSON.parse(answer.text)).toEqual(error);
    },
  );

  it('answers a query string that does not decode as a bad value, and raw non-ASCII path bytes with 4xx', async () => {
    expectJsonError(await call(url('frontend', '/api/products?limit=%ff')), 400);
    expectJsonError(await call(url('backend', '/products?cursor=%ff%fe')), 400);
    for (const service of EXPRESS_SERVICES) {
      const answer = await raw(
        service,
        Buffer.from('GET /api/products/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1'),
      );
      expect(answer).toMatch(/^HTTP\/1\.1 4\d\d /);
      expectNoLeak(answer);
    }
    await expectAlive();
  });
});

describe('decompression bombs', () => {
  it('refuses an image declaring 400 megapixels with 422, without decoding it (memory bounded)', async () => {
    const frontend = stack.services.get('frontend')!;
    const bomb = decompressionBombPng();
    const before = rssKiB(frontend.pid!);
    for (let i = 0; i < 5; i++) {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(bomb)]), 'bomb.png');
      expectJsonError(await call(url('frontend', '/api/images'), { method: 'POST', body: form }), 422);
    }
    const after = rssKiB(frontend.pid!);
    report([
      `decompression bomb: ${bomb.length} bytes declaring 20000x20000 pixels, 5 uploads: frontend RSS ${mib(before)} MiB -> ${mib(after)} MiB`,
    ]);
    // Decoding it once would take over a gigabyte.
    expect(after - before).toBeLessThan(64 * 1024);
    const listed = JSON.parse((await call(url('frontend', '/api/images'))).text) as {
      items: Array<{ name: string }>;
    };
    expect(listed.items.filter((item) => item.name === 'bomb.png')).toEqual([]);
    await expectAlive();
  });

  it.each([
    // The products API reads the bytes as sent, as the Lambda function behind API Gateway does:
    // a content coding is refused (415) before anything could inflate it.
    ['frontend', '/api/products', 16 * 1024, 415],
    ['backend', '/products', 16 * 1024, 415],
    ['thumbnailer', '/events', 256 * 1024, 413],
  ])(
    '%s %s refuses a gzip body that inflates past its %d-byte limit with %d',
    async (service, path, limit, status) => {
      // 8 MiB of spaces in about 8 KiB: 500 times the products limit.
      const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, ' '), { level: 9 });
      expect(bomb.length).toBeLessThan(limit);
      const answer = await call(url(service, path), {
        method: 'POST',
        headers: { ...json, 'content-encoding': 'gzip' },
        body: new Uint8Array(bomb),
      });
      expectJsonError(answer, status);
      await expectAlive();
    },
  );

  it('frontend POST /api/images: a gzip-encoded upload is not inflated, and is refused', async () => {
    const image = await sampleImage('png', 64, 64);
    const boundary = 'b';
    const multipart = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n`),
      image,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const answer = await call(url('frontend', '/api/images'), {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-encoding': 'gzip' },
      body: new Uint8Array(gzipSync(multipart)),
    });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expectNoLeak(answer.text);
  });
});

describe('request body limits: every route that reads a body answers 413 JSON past its limit', () => {
  const over = (bytes: number) => new Uint8Array(Buffer.alloc(bytes + 1, ' '));

  it.each([
    ['frontend', '/api/products', 16 * 1024],
    ['backend', '/products', 16 * 1024],
    ['thumbnailer', '/events', 256 * 1024],
    ['lambda', '/products', 16 * 1024],
    ['lambda', '/Prod/products', 16 * 1024],
  ])('%s POST %s: %i bytes', async (service, path, limit) => {
    expect(
      (await call(url(service, path), { method: 'POST', headers: json, body: over(limit) })).status,
    ).toBe(413);
    const answer = await call(url(service, path), { method: 'POST', headers: json, body: over(limit) });
    expectJsonError(answer, 413);
    // At the limit the body is read (and refused for what it is, not for its size).
    const at = await call(url(service, path), { method: 'POST', headers: json, body: over(limit - 1) });
    expect(at.status).toBe(400);
  });

  it('frontend POST /api/images: UPLOAD_MAX_BYTES', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(UPLOAD_MAX_BYTES + 1)]), 'big.png');
    const answer = await call(url('frontend', '/api/images'), { method: 'POST', body: form });
    expectJsonError(answer, 413);
    expect(JSON.parse(answer.text)).toEqual({
      error: `file is larger than ${UPLOAD_MAX_BYTES} bytes`,
      field: 'file',
    });
  });

  it('the Lambda emulator: API Gateway 10 MiB on any route, the Invoke API 6 MiB', async () => {
    const gateway = await call(url('lambda', '/hello'), { method: 'POST', body: over(10 * 1024 * 1024) });
    expectJsonError(gateway, 413);
    const invoke = await call(url('lambda', '/2015-03-31/functions/HelloFunction/invocations'), {
      method: 'POST',
      body: over(6 * 1024 * 1024),
    });
    expectJsonError(invoke, 413);
    await expectAlive();
  });
});

describe('security headers', () => {
  const HELMET: Record<string, RegExp> = {
    'content-security-policy': /default-src 'self'/,
    'strict-transport-security': /max-age=\d+/,
    'x-content-type-options': /^nosniff$/,
    'x-frame-options': /^SAMEORIGIN$/,
    'referrer-policy': /^no-referrer$/,
    'cross-origin-opener-policy': /^same-origin$/,
    'cross-origin-resource-policy': /^same-origin$/,
    'x-permitted-cross-domain-policies': /^none$/,
    'x-dns-prefetch-control': /^off$/,
  };

  it.each(EXPRESS_SERVICES)(
    '%s sends them on answers, errors and 404s alike, and no x-powered-by',
    async (service) => {
      const answers = [
        await call(url(service, '/healthz')),
        await call(url(service, '/version')),
        await call(url(service, '/no/such/route')),
        await call(url(service, '/%ff')),
        await call(
          url(
            service,
            service === 'thumbnailer' ? '/events' : service === 'backend' ? '/products' : '/api/products',
          ),
          {
            method: 'POST',
            headers: json,
            body: '{',
          },
        ),
      ];
      for (const answer of answers) {
        expectNoLeak(answer.text);
        for (const [header, pattern] of Object.entries(HELMET)) {
          expect({ header, value: answer.headers.get(header) }).toEqual({
            header,
            value: expect.stringMatching(pattern),
          });
        }
        expect(answer.headers.get('x-powered-by')).toBeNull();
      }
    },
  );

  it('the Lambda emulator, standing in for API Gateway, names no server technology', async () => {
    for (const path of ['/hello', '/products', '/nope']) {
      const answer = await call(url('lambda', path));
      expect(answer.headers.get('x-powered-by')).toBeNull();
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expectNoLeak(answer.text);
    }
  });
});
