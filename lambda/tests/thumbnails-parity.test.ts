import type { S3Event } from 'aws-lambda';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import request from 'supertest';
import type { Express } from 'express';
import { createLogger } from '@twin/observability';
import {
  checkBucket,
  createThumbnailEvents,
  type RecordResult,
  ThumbnailProcessor,
  TransientError,
} from '@twin/thumbnails';
import { createThumbnailerApp } from '../../services/thumbnailer/src/app';
import {
  BUCKET,
  type ObjectStore,
  s3Event,
  s3Record,
  sampleImage,
  startObjectStore,
  truncatedJpeg,
} from '../../packages/thumbnails/tests/fixtures';
import { LOCAL_CREDENTIALS } from '../src/runtime/local-env';
import { LAMBDA_DIR, loadHandlerModule } from './helpers';

// The same S3 events to the thumbnailer's POST /events and to the Lambda imageProcessor, each over its
// own s3rver holding the same objects: the two shells of @twin/thumbnails must answer alike (the
// thumbnailer's 200 body is what the function returns; its 400 and 503 are the errors the function
// throws) and log the same lines.

type ImageHandler = (event: S3Event) => Promise<{ results: RecordResult[] }>;

interface Answer {
  status: number;
  body: unknown;
}

let meshStore: ObjectStore;
let lambdaStore: ObjectStore;
let thumbnailer: Express;
let lambda: ImageHandler;
const meshLines: string[] = [];
let lambdaLines: string[] = [];

beforeAll(async () => {
  [meshStore, lambdaStore] = await Promise.all([startObjectStore(), startObjectStore()]);
  const logger = createLogger('thumbnailer', 'info', { write: (line: string) => meshLines.push(line) });
  thumbnailer = createThumbnailerApp({
    events: createThumbnailEvents(new ThumbnailProcessor(meshStore.s3), logger),
    version: '1.0.0',
    logger,
    ready: () => checkBucket(meshStore.s3, BUCKET),
  });
  ({ handler: lambda } = loadHandlerModule<{ handler: ImageHandler }>(
    path.join(LAMBDA_DIR, 'src/handlers/imageProcessor'),
    {
      AWS_ENDPOINT_URL_S3: lambdaStore.endpoint,
      AWS_REGION: 'us-east-1',
      ...LOCAL_CREDENTIALS,
      LOG_LEVEL: 'info',
    },
  ));
});
afterAll(async () => {
  await meshStore?.close();
  await lambdaStore?.close();
});

beforeEach(() => {
  meshLines.length = 0;
  lambdaLines = [];
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lambdaLines.push(String(chunk));
    return true;
  });
});
afterEach(() => jest.restoreAllMocks());

async function putBoth(key: string, body: Buffer): Promise<void> {
  for (const store of [meshStore, lambdaStore]) {
    await store.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentLength: body.length }),
    );
  }
}

/** The thumbnailer's answer, and the function's in the same terms: a return is a 200, a throw the error's status. */
async function both(event: unknown): Promise<[Answer, Answer]> {
  const mesh = await request(thumbnailer)
    .post('/events')
    .send(event as object);
  let viaLambda: Answer;
  try {
    viaLambda = { status: 200, body: await lambda(event as S3Event) };
  } catch (error) {
    const status =
      error instanceof TransientError
        ? 503
        : (error as Error).name === 'InvalidNotificationError'
          ? 400
          : 500;
    viaLambda = {
      status,
      body:
        error instanceof TransientError
          ? { failed: error.failures.map(({ bucket, key }) => ({ bucket, key })), results: error.results }
          : { error: (error as Error).message },
    };
  }
  const meshBody = mesh.status === 503 ? { failed: mesh.body.failed, results: mesh.body.results } : mesh.body;
  return [{ status: mesh.status, body: meshBody }, viaLambda];
}

/** The thumbnail lines of a log, without what differs by process and moment. */
function thumbnailLines(lines: string[]): unknown[] {
  return lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter(
      (line) =>
        typeof line.msg === 'string' && /thumbnail|notification|object store/.test(line.msg as string),
    )
    .map(({ time: _t, pid: _p, hostname: _h, name: _n, service: _s, request_id: _r, err, ...line }) => ({
      ...line,
      ...(err ? { err: (err as { type?: string }).type } : {}),
    }));
}

async function expectAlike(event: unknown, status: number): Promise<Answer> {
  const [mesh, viaLambda] = await both(event);
  expect(viaLambda).toEqual(mesh);
  expect(mesh.status).toBe(status);
  expect(thumbnailLines(lambdaLines)).toEqual(thumbnailLines(meshLines));
  expect(thumbnailLines(meshLines).length).toBeGreaterThan(0);
  return mesh;
}

describe('thumbnails: the Lambda imageProcessor answers and logs as the thumbnailer does', () => {
  it('creates a thumbnail, then finds it there on redelivery', async () => {
    await putBoth('uploads/p1/my photo ñ.jpg', await sampleImage('jpeg'));
    const created = await expectAlike(s3Event('uploads/p1/my photo ñ.jpg'), 200);
    expect(created.body).toEqual({ results: [expect.objectContaining({ outcome: 'created' })] });
    const again = await expectAlike(s3Event('uploads/p1/my photo ñ.jpg'), 200);
    expect(again.body).toEqual({ results: [expect.objectContaining({ outcome: 'already-exists' })] });
  });

  it('reports damaged and unsupported images as failed, with the same reasons', async () => {
    await putBoth('uploads/p2/cut.jpg', await truncatedJpeg(0.6));
    await putBoth('uploads/p2/notes.jpg', Buffer.from('not an image'));
    const answer = await expectAlike(s3Event('uploads/p2/cut.jpg', 'uploads/p2/notes.jpg'), 200);
    expect(answer.body).toEqual({
      results: [
        expect.objectContaining({ outcome: 'failed', reason: 'corrupt-image' }),
        expect.objectContaining({ outcome: 'failed', reason: 'unsupported-format' }),
      ],
    });
  });

  it('skips what needs no thumbnail, for the same reasons', async () => {
    const event = {
      Records: [
        s3Record('thumbnails/p3/a.jpg'),
        s3Record('uploads/p3/gone.jpg'),
        s3Record('uploads/p3/a.jpg', 'ObjectRemoved:Delete'),
        s3Record('uploads/p3/../../x.jpg'),
      ],
    };
    const answer = await expectAlike(event, 200);
    expect((answer.body as { results: Array<{ reason: string }> }).results.map((r) => r.reason)).toEqual([
      'thumbnail-key',
      'source-missing',
      'not-object-created',
      'unsafe-key',
    ]);
  });

  it('refuses what is not an S3 notification: 400 there, the same error thrown here', async () => {
    await expectAlike({ hello: 'world' }, 400);
  });

  it('asks for the event again when the object store is down: 503 there, TransientError here', async () => {
    await meshStore.close();
    await lambdaStore.close();
    const answer = await expectAlike(s3Event('uploads/p4/a.jpg', 'thumbnails/p4/a.jpg'), 503);
    expect(answer.body).toEqual({
      failed: [{ bucket: BUCKET, key: 'uploads/p4/a.jpg' }],
      results: [expect.objectContaining({ outcome: 'skipped', reason: 'thumbnail-key' })],
    });
  });
});
