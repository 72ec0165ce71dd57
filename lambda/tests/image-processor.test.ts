import type { S3Event } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import type { RecordResult } from '@twin/thumbnails';
import {
  BUCKET,
  type ObjectStore,
  s3Event,
  sampleImage,
  startObjectStore,
} from '../../packages/thumbnails/tests/fixtures';
import { LOCAL_CREDENTIALS } from '../src/runtime/local-env';
import { LAMBDA_DIR, loadHandlerModule } from './helpers';

type ImageHandler = (event: S3Event) => Promise<{ results: RecordResult[] }>;

const HANDLER = path.join(LAMBDA_DIR, 'src/handlers/imageProcessor');
const credentials = { AWS_REGION: 'us-east-1', ...LOCAL_CREDENTIALS };

let store: ObjectStore;
let handler: ImageHandler;
let logged: string[];

beforeAll(async () => {
  store = await startObjectStore();
  ({ handler } = loadHandlerModule<{ handler: ImageHandler }>(HANDLER, {
    ...credentials,
    AWS_ENDPOINT_URL_S3: store.endpoint,
    LOG_LEVEL: 'info',
  }));
});
afterAll(() => store.close());

// Handlers log JSON lines to stderr: keep them for the assertions, out of the test output.
beforeEach(() => {
  logged = [];
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    logged.push(String(chunk));
    return true;
  });
});
afterEach(() => jest.restoreAllMocks());

/** The JSON log lines (stderr also carries Node's own warnings). */
function logLines(): Array<Record<string, unknown>> {
  return logged.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
}

async function upload(key: string, body: Buffer): Promise<void> {
  await store.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function thumbnailSize(key: string) {
  const object = await store.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const { width, height, format } = await sharp(
    Buffer.from(await object.Body!.transformToByteArray()),
  ).metadata();
  return { width, height, format };
}

describe('imageProcessor handler', () => {
  it('decodes a URL-encoded key with + and non-ASCII characters', async () => {
    const id = randomUUID();
    const key = `uploads/${id}/my photo ñ.jpg`;
    await upload(key, await sampleImage('jpeg'));
    const event = s3Event(key) as unknown as S3Event;
    expect(event.Records[0]?.s3.object.key).toBe(`uploads/${id}/my+photo+%C3%B1.jpg`);

    const { results } = await handler(event);

    expect(results).toEqual([
      expect.objectContaining({ outcome: 'created', key, thumbnailKey: `thumbnails/${id}/my photo ñ.jpg` }),
    ]);
    expect(await thumbnailSize(`thumbnails/${id}/my photo ñ.jpg`)).toEqual({
      width: 200,
      height: 200,
      format: 'jpeg',
    });
  });

  it('processes every record of the event', async () => {
    const id = randomUUID();
    const keys = [`uploads/${id}/a.jpg`, `uploads/${id}/b.png`, `uploads/${id}/c.webp`];
    await upload(keys[0]!, await sampleImage('jpeg'));
    await upload(keys[1]!, await sampleImage('png', 300, 900));
    await upload(keys[2]!, await sampleImage('webp', 1200, 300));

    const { results } = await handler(s3Event(...keys) as unknown as S3Event);

    expect(results.map((r) => r.outcome)).toEqual(['created', 'created', 'created']);
    for (const key of keys) {
      expect(await thumbnailSize(key.replace('uploads/', 'thumbnails/'))).toMatchObject({
        width: 200,
        height: 200,
      });
    }
    // Redelivery is harmless: the thumbnails are already there for these very sources.
    const again = await handler(s3Event(...keys) as unknown as S3Event);
    expect(again.results.map((r) => r.outcome)).toEqual([
      'already-exists',
      'already-exists',
      'already-exists',
    ]);
  });

  it('logs and acknowledges a corrupt image, and still does the other records', async () => {
    const id = randomUUID();
    await upload(`uploads/${id}/broken.jpg`, Buffer.from('this is not a JPEG at all'));
    await upload(`uploads/${id}/good.png`, await sampleImage('png'));

    const { results } = await handler(
      s3Event(`uploads/${id}/broken.jpg`, `uploads/${id}/good.png`) as unknown as S3Event,
    );

    expect(results[0]).toMatchObject({
      outcome: 'failed',
      reason: expect.stringMatching(/corrupt-image|unsupported-format/),
    });
    expect(results[1]).toMatchObject({ outcome: 'created' });
    const warning = logLines().find((line) => line.level === 'warn');
    expect(warning).toMatchObject({
      service: 'image-processor',
      key: `uploads/${id}/broken.jpg`,
      outcome: 'failed',
    });
  });

  it('skips its own thumbnails and keys outside uploads/', async () => {
    const { results } = await handler(s3Event('thumbnails/1/a.jpg', 'elsewhere/a.jpg') as unknown as S3Event);
    expect(results.map((r) => r.outcome === 'skipped' && r.reason)).toEqual([
      'thumbnail-key',
      'not-an-upload',
    ]);
  });

  it('throws on something that is not an S3 event', async () => {
    await expect(handler({ hello: 'world' } as unknown as S3Event)).rejects.toMatchObject({
      name: 'InvalidNotificationError',
    });
  });

  it('fails the invocation when the object store is down, so Lambda retries the event', async () => {
    // A port nothing listens on.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    let outage: ImageHandler | undefined;
    jest.isolateModules(() => {
      ({ handler: outage } = loadHandlerModule<{ handler: ImageHandler }>(HANDLER, {
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
      }));
    });
    const event = s3Event(`uploads/${randomUUID()}/a.jpg`) as unknown as S3Event;
    try {
      await expect(outage!(event)).rejects.toMatchObject({ name: 'TransientError' });
    } finally {
      // The SDK reads its endpoint on the first request, so it is put back only now.
      process.env.AWS_ENDPOINT_URL_S3 = store.endpoint;
    }
    const error = logLines().find((line) => line.level === 'error');
    expect(error).toMatchObject({
      msg: 'object store failed; the event is to be delivered again',
      failed: [{ bucket: BUCKET, key: event.Records[0]!.s3.object.key }],
    });
  });
});
