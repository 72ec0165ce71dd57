import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createLogger } from '@twin/observability';
import {
  BUCKET,
  type ObjectStore,
  s3Event,
  sampleImage,
  startObjectStore,
} from '../../packages/thumbnails/tests/fixtures';
import { startTestDynamo, type TestDynamo } from '../../tests/support/dynamo';
import { type Emulator, startEmulator } from '../src/emulator/server';
import { readVersionsFile } from '../src/emulator/versions';
import { LOCAL_CREDENTIALS } from '../src/runtime/local-env';
import { PNG_BYTES } from './fixtures/handlers';
import { LAMBDA_DIR, requireBuilt, waitFor } from './helpers';

type LogLine = Record<string, unknown> & { msg: string };
// Response bodies are asserted field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const json = async (response: Response): Promise<Json> => response.json();

function captureLogger() {
  const lines: LogLine[] = [];
  const logger = createLogger('emulator-test', 'info', {
    write: (line: string) => lines.push(JSON.parse(line)),
  });
  return { logger, lines };
}

const invocationsPath = (name: string) => `/2015-03-31/functions/${name}/invocations`;

// A function's first call starts its execution environment, a process: seconds on a busy machine.
jest.setTimeout(60_000);

describe('emulator, serving template.yaml over HTTP', () => {
  let dynamo: TestDynamo;
  let store: ObjectStore;
  let emulator: Emulator;
  const streams: Array<{ line: string; functionName: string }> = [];
  const at = (url: string, init?: RequestInit) => fetch(`${emulator.url}${url}`, init);

  beforeAll(async () => {
    [dynamo, store] = await Promise.all([startTestDynamo(), startObjectStore()]);
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      ...LOCAL_CREDENTIALS,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: store.endpoint,
      TABLE_NAME: await dynamo.table(),
      LOG_LEVEL: 'silent',
    });
    emulator = await startEmulator({
      port: 0,
      logger: captureLogger().logger,
      retryDelaysMs: [10],
      logs: (line, { functionName }) => streams.push({ line, functionName }),
      // The products canary npm start runs with LAMBDA_VERSIONS_FILE=lambda/canary.json.
      versions: readVersionsFile(path.join(LAMBDA_DIR, 'canary.json')),
    });
  }, 60_000);
  afterAll(async () => {
    await emulator.close();
    await Promise.all([dynamo.close(), store.close()]);
  });

  it('is ready once the handlers are loaded', async () => {
    const response = await at('/__emulator/ready');
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      status: 'ready',
      functions: ['HelloFunction', 'ProductsFunction', 'ImageProcessorFunction'],
    });
  });

  it('answers GET /hello?name=Alice as the deployed API does', async () => {
    const response = await at('/hello?name=Alice');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await json(response)).message).toBe('Hello, Alice!');
    // The deployed URL carries the stage: $API_URL/hello works against both.
    expect((await json(await at('/Prod/hello'))).message).toBe('Hello, World!');
  });

  it('logs each invocation as Lambda does, Init Duration on the cold one only', async () => {
    const version1 = () =>
      emulator
        .stats()
        .functions.find((fn) => fn.name === 'HelloFunction')!
        .versions.find((v) => v.version === '1')!;
    const before = version1();
    await at('/hello');
    const hello = streams
      .filter((entry) => entry.functionName === 'HelloFunction')
      .map((entry) => entry.line);
    // API Gateway invokes the live alias (AutoPublishAlias), which points at version 1.
    expect(hello[0]).toMatch(/^START RequestId: [0-9a-f-]{36} Version: 1$/);
    const reports = hello.filter((line) => line.startsWith('REPORT '));
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports[0]).toMatch(
      /^REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms$/,
    );
    for (const report of reports.slice(1)) expect(report).not.toContain('Init Duration');
    // One environment served them all: a cold start, then warm invocations.
    const after = version1();
    expect(after).toMatchObject({ coldStarts: 1, invocations: before.invocations + 1 });
    expect(after.environments).toMatchObject({ alive: 1, idle: 1 });
  });

  it('answers GET /version with the release that served, so a canary split can be counted', async () => {
    const shift = (weight: number) =>
      at('/2015-03-31/functions/ProductsFunction/aliases/live', {
        method: 'PUT',
        body: JSON.stringify({ RoutingConfig: { AdditionalVersionWeights: { '2': weight } } }),
      });
    /** The brief's loop: `for i in $(seq 1 n); do curl -s $API/version; done | sort | uniq -c`. */
    const count = async (n: number) => {
      const counts: Record<string, number> = {};
      for (let i = 0; i < n; i += 1) {
        const line = await (await at('/Prod/version')).text();
        counts[line] = (counts[line] ?? 0) + 1;
      }
      return counts;
    };
    try {
      expect((await shift(0)).status).toBe(200);
      expect(await count(4)).toEqual({ '{"service":"products","version":"1.0.0"}': 4 });
      expect((await shift(1)).status).toBe(200);
      expect(await count(4)).toEqual({ '{"service":"products","version":"2.0.0"}': 4 });
    } finally {
      await shift(0.1);
    }
  });

  it('serves the products round trip', async () => {
    const created = await at('/products', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Laptop', price: 999.99 }),
    });
    expect(created.status).toBe(201);
    const product = await json(created);
    expect(product).toMatchObject({ name: 'Laptop', price: 999.99 });

    expect(await json(await at(`/products/${product.id}`))).toEqual(product);
    expect((await json(await at('/products?limit=10'))).items).toContainEqual(product);
    const deleted = await at(`/products/${product.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    const gone = await at(`/products/${product.id}`);
    expect(gone.status).toBe(404);
    expect(await json(gone)).toEqual({ error: `product ${product.id} not found` });
  });

  it('lets the handler refuse a body over its limit, and refuses one over 10 MB itself', async () => {
    const big = await at('/products', { method: 'POST', body: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
    expect(await json(big)).toEqual({ error: 'request body is larger than 16384 bytes' });

    const huge = await at('/products', { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024 + 1, 'x') });
    expect(huge.status).toBe(413);
    expect(await json(huge)).toEqual({ message: 'Request Too Long' });
  });

  it.each([
    ['GET', '/nope'],
    ['PUT', '/products'],
    ['GET', '/products/1/extra'],
    ['POST', '/hello'],
  ])('answers %s %s with API Gateway’s 403', async (method, url) => {
    const response = await at(url, { method });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await json(response)).toEqual({ message: 'Missing Authentication Token' });
  });

  it('invokes imageProcessor through the Lambda Invoke API with an S3 event', async () => {
    const id = randomUUID();
    const key = `uploads/${id}/my photo ñ.jpg`;
    await store.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await sampleImage('jpeg') }));

    const response = await at(invocationsPath('ImageProcessorFunction'), {
      method: 'POST',
      body: JSON.stringify(s3Event(key)),
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('x-amz-function-error')).toBeNull();
    expect(await json(response)).toEqual({
      results: [
        expect.objectContaining({ outcome: 'created', thumbnailKey: `thumbnails/${id}/my photo ñ.jpg` }),
      ],
    });
    const thumbnail = await store.s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: `thumbnails/${id}/my photo ñ.jpg` }),
    );
    expect(thumbnail.ContentType).toBe('image/jpeg');
  });

  it('runs an Event invocation in the background (202), as S3 invokes', async () => {
    const id = randomUUID();
    const key = `uploads/${id}/later.png`;
    await store.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await sampleImage('png') }));
    const arn = `arn:aws:lambda:us-east-1:123456789012:function:ImageProcessorFunction`;

    const response = await at(invocationsPath(encodeURIComponent(arn)), {
      method: 'POST',
      headers: { 'x-amz-invocation-type': 'Event' },
      body: JSON.stringify(s3Event(key)),
    });

    expect(response.status).toBe(202);
    await waitFor(
      () =>
        store.s3
          .send(new HeadObjectCommand({ Bucket: BUCKET, Key: `thumbnails/${id}/later.png` }))
          .then(() => true)
          .catch(() => undefined),
      'the thumbnail',
    );
  });

  it('reports a function that throws as Lambda does', async () => {
    const response = await at(invocationsPath('ImageProcessorFunction'), {
      method: 'POST',
      body: JSON.stringify({ not: 'an S3 event' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await json(response)).toMatchObject({
      errorType: 'InvalidNotificationError',
      errorMessage: 'not an S3 event notification: expected an object with a Records array',
      trace: expect.any(Array),
    });
  });

  it('invokes hello by name with an API Gateway event file', async () => {
    const response = await at(invocationsPath('HelloFunction'), {
      method: 'POST',
      body: JSON.stringify({ queryStringParameters: { name: 'Bob' } }),
    });
    const result = await json(response);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body).message).toBe('Hello, Bob!');
  });

  it('answers 404 for a function the template does not have, 400 for a payload that is not JSON', async () => {
    const missing = await at(invocationsPath('Nope'), { method: 'POST', body: '{}' });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await json(missing)).toEqual({
      Type: 'User',
      message: 'Function not found: arn:aws:lambda:us-east-1:123456789012:function:Nope',
    });
    const garbage = await at(invocationsPath('HelloFunction'), { method: 'POST', body: '{nope' });
    expect(garbage.status).toBe(400);
    expect((await json(garbage)).Type).toBe('User');
  });
});

describe('emulator, with functions that misbehave', () => {
  let emulator: Emulator;
  let logs: LogLine[];
  const streams: string[] = [];
  const at = (url: string, init?: RequestInit) => fetch(`${emulator.url}${url}`, init);

  beforeAll(async () => {
    const { logger, lines } = captureLogger();
    logs = lines;
    emulator = await startEmulator({
      port: 0,
      logger,
      templatePath: path.join(__dirname, 'fixtures', 'template.yaml'),
      retryDelaysMs: [50],
      logs: (line) => streams.push(line),
    });
  }, 60_000);
  afterAll(() => emulator.close());

  it('answers 502 when the handler throws or returns something that is not a proxy response', async () => {
    for (const url of ['/boom', '/malformed']) {
      const response = await at(url);
      expect(response.status).toBe(502);
      expect(await json(response)).toEqual({ message: 'Internal server error' });
    }
    expect(logs.find((line) => line.msg === 'function error')).toMatchObject({
      function: 'ThrowingFunction',
      error: { errorType: 'TypeError', errorMessage: 'something broke' },
    });
  });

  it('builds the full REST v1 event and maps headers back', async () => {
    const response = await at('/Prod/echo/a%20b/c?x=1&x=2&y=%C3%B1', {
      method: 'PATCH',
      headers: { 'X-Custom': 'yes', 'content-type': 'image/png' },
      body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff]),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-single')).toBe('one');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    const event = await json(response);
    expect(event).toMatchObject({
      resource: '/echo/{proxy+}',
      path: '/echo/a%20b/c',
      httpMethod: 'PATCH',
      pathParameters: { proxy: 'a b/c' },
      queryStringParameters: { x: '2', y: 'ñ' },
      multiValueQueryStringParameters: { x: ['1', '2'], y: ['ñ'] },
      stageVariables: null,
      isBase64Encoded: true,
      body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff]).toString('base64'),
      requestContext: {
        resourcePath: '/echo/{proxy+}',
        httpMethod: 'PATCH',
        stage: 'Prod',
        path: '/Prod/echo/a%20b/c',
        requestId: response.headers.get('x-amzn-requestid'),
        identity: { sourceIp: expect.stringMatching(/127\.0\.0\.1/) },
      },
    });
    expect(event.headers['X-Custom'] ?? event.headers['x-custom']).toBe('yes');
    expect(event.multiValueHeaders['X-Custom'] ?? event.multiValueHeaders['x-custom']).toEqual(['yes']);

    const plain = await json(await at('/echo/x'));
    expect(plain).toMatchObject({ body: null, isBase64Encoded: false, queryStringParameters: null });
    expect(plain.multiValueQueryStringParameters).toBeNull();
  });

  it("follows the template's BinaryMediaTypes for request bodies, as API Gateway does", async () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in ISO-8859-1: not UTF-8
    const echo = async (contentType: string | undefined) => {
      const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
      return json(await at('/echo/x', { method: 'POST', headers, body: latin1 }));
    };
    // Not a binary media type of this template (whatever the bytes): UTF-8 text, bad bytes replaced.
    for (const contentType of ['application/octet-stream', 'application/json', 'text/plain', undefined]) {
      expect(await echo(contentType)).toMatchObject({ isBase64Encoded: false, body: 'caf\uFFFD' });
    }
    // image~1png and font~1* (the '~1' escape is '/'); parameters and case do not matter.
    for (const contentType of ['image/png', 'IMAGE/PNG; q=1', 'font/woff2']) {
      expect(await echo(contentType)).toMatchObject({
        isBase64Encoded: true,
        body: latin1.toString('base64'),
      });
    }
  });

  it('sends a base64 response as bytes only when the Accept header names a binary media type', async () => {
    const png = await at('/binary', { headers: { accept: 'image/png, */*' } });
    expect(png.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await png.arrayBuffer())]).toEqual(PNG_BYTES);
    const text = await at('/binary', { headers: { accept: 'application/json' } });
    expect(await text.text()).toBe(Buffer.from(PNG_BYTES).toString('base64'));
  });

  it('times a function out after its Timeout, and retries an Event invocation as Lambda does', async () => {
    const response = await at(invocationsPath('SlowFunction'), { method: 'POST', body: '{}' });
    expect(response.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await json(response)).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'Task timed out after 1.00 seconds',
    });

    const before = logs.length;
    const reportsBefore = streams.filter((line) => line.startsWith('REPORT ')).length;
    const queued = await at(invocationsPath('SlowFunction'), {
      method: 'POST',
      headers: { 'x-amz-invocation-type': 'Event' },
      body: '{}',
    });
    expect(queued.status).toBe(202);
    const failed = await waitFor(
      () => logs.slice(before).find((line) => line.msg.startsWith('asynchronous invocation failed')),
      'the retries to run out',
    );
    // One attempt plus MaximumRetryAttempts: 1, each ended by the timeout.
    expect(failed).toMatchObject({ function: 'SlowFunction', attempts: 2 });
    const reports = streams.filter((line) => line.startsWith('REPORT ')).slice(reportsBefore);
    expect(reports).toHaveLength(2);
    for (const report of reports) expect(report).toMatch(/\tStatus: timeout$/);
  }, 30_000);
});

describe('emulator as the local stack starts it (node dist/emulator/main.js)', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  it('listens on PORT, serves, and exits 0 on SIGTERM', async () => {
    child = spawn(process.execPath, [requireBuilt('emulator/main.js')], {
      cwd: path.join(LAMBDA_DIR, '..'),
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const lines: LogLine[] = [];
    const text: string[] = [];
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) lines.push(JSON.parse(line));
      else text.push(line);
    });
    const listening = await waitFor(
      () => lines.find((line) => line.msg === 'listening'),
      'the emulator to listen',
    );
    const url = listening.url as string;

    expect((await fetch(`${url}/__emulator/ready`)).status).toBe(200);
    expect((await json(await fetch(`${url}/hello?name=Alice`))).message).toBe('Hello, Alice!');
    // Lambda's own lines, as CloudWatch Logs shows them, on the emulator's stdout.
    await waitFor(() => text.find((line) => line.startsWith('REPORT ')), 'the REPORT line');
    expect(text.find((line) => line.startsWith('REPORT '))).toMatch(/\tInit Duration: [\d.]+ ms$/);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
