import { GetObjectCommand } from '@aws-sdk/client-s3';
import request from 'supertest';
import sharp from 'sharp';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createLogger } from '@twin/observability';
import { checkBucket, createThumbnailEvents, ThumbnailProcessor } from '@twin/thumbnails';
import { createThumbnailerApp } from '../src/app';
import { readThumbnailerConfig } from '../src/config';
import {
  BUCKET,
  minioEvent,
  type ObjectStore,
  s3Client,
  s3Event,
  sampleImage,
  startObjectStore,
} from '../../../packages/thumbnails/tests/fixtures';

const logger = createLogger('thumbnailer-test', 'silent');
let store: ObjectStore;

beforeAll(async () => {
  store = await startObjectStore();
});
afterAll(() => store.close());

function thumbnailer(s3 = store.s3) {
  return createThumbnailerApp({
    events: createThumbnailEvents(new ThumbnailProcessor(s3), logger),
    version: '1.0.0',
    logger,
    ready: () => checkBucket(s3, BUCKET),
  });
}

async function upload(key: string) {
  await store.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await sampleImage('jpeg') }));
}

describe('POST /events', () => {
  it('writes the thumbnail before answering, for the MinIO webhook body', async () => {
    const key = 'uploads/a1/my photo ñ.jpg';
    await upload(key);
    const response = await request(thumbnailer()).post('/events').send(minioEvent(key)).expect(200);
    expect(response.body.results).toEqual([
      expect.objectContaining({ outcome: 'created', key, thumbnailKey: 'thumbnails/a1/my photo ñ.jpg' }),
    ]);
    const thumbnail = await store.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'thumbnails/a1/my photo ñ.jpg' }),
    );
    const metadata = await sharp(Buffer.from(await thumbnail.Body!.transformToByteArray())).metadata();
    expect([metadata.width, metadata.height, metadata.format]).toEqual([200, 200, 'jpeg']);
  });

  it('treats a redelivered event as done, without error', async () => {
    const key = 'uploads/a2/photo.jpg';
    await upload(key);
    const app = thumbnailer();
    await request(app).post('/events').send(s3Event(key)).expect(200);
    const again = await request(app).post('/events').send(s3Event(key)).expect(200);
    expect(again.body.results[0].outcome).toBe('already-exists');
  });

  it('acknowledges an image it can never process', async () => {
    const key = 'uploads/a3/fake.jpg';
    await store.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'not an image' }));
    const response = await request(thumbnailer()).post('/events').send(s3Event(key)).expect(200);
    expect(response.body.results[0]).toMatchObject({ outcome: 'failed' });
  });

  it.each([
    ['not JSON', '{'],
    ['not a notification', '{"hello":"world"}'],
  ])('answers %s with 400', async (_case, body) => {
    const response = await request(thumbnailer())
      .post('/events')
      .set('content-type', 'application/json')
      .send(body);
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual(expect.any(String));
  });

  it('asks for redelivery (503) when the object store is down, and is not ready', async () => {
    const down = s3Client('http://127.0.0.1:9', 1);
    const app = thumbnailer(down);
    const response = await request(app).post('/events').send(s3Event('uploads/a4/photo.jpg')).expect(503);
    expect(response.body.failed).toEqual([{ bucket: BUCKET, key: 'uploads/a4/photo.jpg' }]);
    await request(app).get('/readyz').expect(503);
  });
});

describe('thumbnailer config', () => {
  it('defaults to 200x200 and rejects nonsense', () => {
    expect(readThumbnailerConfig({ AWS_REGION: 'x' })).toMatchObject({
      THUMBNAIL_WIDTH: 200,
      THUMBNAIL_HEIGHT: 200,
    });
    expect(() => readThumbnailerConfig({ AWS_REGION: 'x', THUMBNAIL_WIDTH: '-1' })).toThrow(
      /THUMBNAIL_WIDTH/,
    );
  });
});
