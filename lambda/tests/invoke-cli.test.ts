import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  BUCKET,
  type ObjectStore,
  sampleImage,
  startObjectStore,
} from '../../packages/thumbnails/tests/fixtures';
import { startTestDynamo, type TestDynamo } from '../../tests/support/dynamo';
import { freePort } from '../../local/src/ports';
import { LAMBDA_DIR, runInvokeCli } from './helpers';

// Each run bundles the function and starts an execution environment (a process) for it.
jest.setTimeout(60_000);

let dynamo: TestDynamo;
let store: ObjectStore;
let table: string;

beforeAll(async () => {
  [dynamo, store] = await Promise.all([startTestDynamo(), startObjectStore()]);
  table = await dynamo.table();
});
afterAll(() => Promise.all([dynamo.close(), store.close()]));

/** The CLI against this file's dynalite, s3rver and table. */
function invoke(args: string[], env: Record<string, string> = {}, input?: string) {
  return runInvokeCli(
    args,
    {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: store.endpoint,
      TABLE_NAME: table,
      ...env,
    },
    input,
  );
}

describe('npm run invoke -w lambda -- <function> <event-file>', () => {
  it('runs hello with the sample events and prints the result as JSON', async () => {
    const alice = await invoke(['hello', 'events/hello.json']);
    expect(alice.code).toBe(0);
    const result = JSON.parse(alice.stdout);
    expect(result).toMatchObject({
      statusCode: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(JSON.parse(result.body).message).toBe('Hello, Alice!');
    // The function's log stream, as CloudWatch Logs shows it: a cold start, so with its Init Duration.
    expect(alice.stderr).toMatch(/^START RequestId: (\S+) Version: \$LATEST$/m);
    expect(alice.stderr).toMatch(
      /^REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\t.*Init Duration: [\d.]+ ms$/m,
    );

    const world = await invoke(['HelloFunction', 'events/hello-no-query.json']);
    expect(JSON.parse(JSON.parse(world.stdout).body).message).toBe('Hello, World!');
  });

  it('creates and reads a product in the table it is pointed at', async () => {
    const created = await invoke(['products', 'events/create-product.json']);
    expect(created.code).toBe(0);
    const product = JSON.parse(JSON.parse(created.stdout).body);
    expect(JSON.parse(created.stdout).statusCode).toBe(201);
    expect(product).toMatchObject({ name: 'Laptop', price: 999.99 });

    const event = JSON.parse(readFileSync(path.join(LAMBDA_DIR, 'events/get-product.json'), 'utf8'));
    event.pathParameters.id = product.id;
    event.path = `/products/${product.id}`;
    const got = await invoke(['products', '-'], {}, JSON.stringify(event));
    expect(JSON.parse(JSON.parse(got.stdout).body)).toEqual(product);

    const missing = await invoke(['products', 'events/get-product.json']);
    expect(missing.code).toBe(0);
    expect(JSON.parse(missing.stdout).statusCode).toBe(404);
  });

  it('makes the thumbnail of the sample S3 event (URL-encoded key)', async () => {
    const event = JSON.parse(readFileSync(path.join(LAMBDA_DIR, 'events/s3-put.json'), 'utf8'));
    const encoded: string = event.Records[0].s3.object.key;
    expect(encoded).toMatch(/^uploads\/[0-9a-f-]{36}\/my\+photo\+%C3%B1\.jpg$/);
    const key = decodeURIComponent(encoded.replace(/\+/g, ' '));
    await store.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await sampleImage('jpeg') }));

    const run = await invoke(['imageProcessor', 'events/s3-put.json']);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).results).toEqual([
      expect.objectContaining({
        outcome: 'created',
        key,
        thumbnailKey: key.replace('uploads/', 'thumbnails/'),
      }),
    ]);
    await store.s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: key.replace('uploads/', 'thumbnails/') }),
    );
  });

  it('points an S3 event at BUCKET when it is set', async () => {
    const run = await invoke(['imageProcessor', 'events/s3-put.json'], { BUCKET: 'elsewhere' });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).results).toEqual([
      expect.objectContaining({ bucket: 'elsewhere', outcome: 'skipped', reason: 'source-missing' }),
    ]);
  });

  it('exits 1 when the function answers a server error, and still prints its answer', async () => {
    const run = await invoke(['products', 'events/list-products.json'], { TABLE_NAME: 'no-such-table' });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).statusCode).toBeGreaterThanOrEqual(500);
  });

  it('says which variable to set when a store the function uses does not answer', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const run = await invoke(['products', 'events/list-products.json'], {
      AWS_ENDPOINT_URL_DYNAMODB: closed,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      `ProductsFunction uses DynamoDB, and nothing answers at ${closed} (AWS_ENDPOINT_URL_DYNAMODB): no npm start is running`,
    );
    expect(run.stderr).toMatch(/Start the stack \(npm start\), or set AWS_ENDPOINT_URL_DYNAMODB/);
    // An expected failure: one message, no stack trace, and the function never ran.
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stderr).not.toMatch(/^START /m);

    // hello uses no store, so it runs whatever the endpoints say.
    const hello = await invoke(['hello', 'events/hello.json'], { AWS_ENDPOINT_URL_DYNAMODB: closed });
    expect(hello.code).toBe(0);
  });

  it('exits 1 with Lambda’s error document when the function throws', async () => {
    const run = await invoke(['imageProcessor', 'events/hello.json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ errorType: 'InvalidNotificationError' });
    expect(run.stderr).toMatch(/^END RequestId: \S+$/m);
  });

  it.each([
    [
      ['nope', 'events/hello.json'],
      /unknown function 'nope' \(the template has HelloFunction, ProductsFunction, ImageProcessorFunction\)/,
    ],
    [['hello', 'events/missing.json'], /event file not found: events\/missing\.json/],
    [['hello', 'template.yaml'], /template\.yaml is not JSON/],
    [['hello'], /expected <function> <event-file>/],
    [['hello', 'events/hello.json', '--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    const run = await invoke(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });

  it('explains itself with --help', async () => {
    const run = await invoke(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: npm run invoke -w lambda -- <function> <event-file>');
    expect(run.stdout).toContain('ImageProcessorFunction (imageProcessor)');
  });
});
