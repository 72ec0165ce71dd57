import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { checkBucket } from '@twin/thumbnails';
import request from 'supertest';
import { createLogger } from '@twin/observability';
import { createFrontendApp } from '../src/app';
import { BackendClient } from '../src/backend-client';
import { ImageStore } from '../src/image-store';
import { safeFileName } from '../src/image-upload';
import {
  BUCKET,
  decompressionBombPng,
  type ObjectStore,
  s3Client,
  sampleImage,
  startObjectStore,
} from '../../../packages/thumbnails/tests/fixtures';

const logger = createLogger('frontend-test', 'silent');
const limits = { maxBytes: 1024 * 1024, maxPixels: 50_000_000 };
let store: ObjectStore;

beforeAll(async () => {
  store = await startObjectStore();
});
afterAll(() => store.close());

function frontend(s3 = store.s3) {
  return createFrontendApp({
    backend: new BackendClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 200 }),
    images: new ImageStore(s3, BUCKET),
    uploadLimits: limits,
    version: '1.0.0',
    logger,
    storeReady: () => checkBucket(s3, BUCKET),
  });
}

async function keys(prefix: string): Promise<string[]> {
  const { Contents = [] } = await store.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return Contents.map((object) => object.Key!);
}

describe('POST /api/images', () => {
  it('stores the upload under uploads/<id>/<name> with the sniffed type', async () => {
    const image = await sampleImage('png');
    const response = await request(frontend())
      .post('/api/images')
      .attach('file', image, { filename: 'my photo ñ.jpg', contentType: 'image/jpeg' })
      .expect(201);
    expect(response.body).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'my photo ñ.jpg',
      contentType: 'image/png',
      bytes: image.length,
      width: 640,
      height: 480,
    });
    expect(await keys(`uploads/${response.body.id}/`)).toEqual([
      `uploads/${response.body.id}/my photo ñ.jpg`,
    ]);

    const stored = await request(frontend()).get(`/api/images/${response.body.id}`).expect(200);
    expect(stored.type).toBe('image/png');
    expect(Buffer.compare(stored.body as Buffer, image)).toBe(0);
  });

  it('keeps only the last segment of a name that tries to escape', async () => {
    const response = await request(frontend())
      .post('/api/images')
      .attach('file', await sampleImage('jpeg'), { filename: '../../etc/x.jpg' })
      .expect(201);
    expect(response.body.name).toBe('x.jpg');
    expect(await keys(`uploads/${response.body.id}/`)).toEqual([`uploads/${response.body.id}/x.jpg`]);
  });

  it.each([
    ['a text file named fake.jpg', Buffer.from('hello, not an image'), 'fake.jpg', 415],
    ['an empty file', Buffer.alloc(0), 'empty.png', 415],
    ['a decompression bomb (20000x20000 declared)', decompressionBombPng(), 'bomb.png', 422],
    ['a file over the size limit', Buffer.alloc(limits.maxBytes + 1, 1), 'big.jpg', 413],
  ])('refuses %s and stores nothing', async (_case, data, filename, status) => {
    const before = await keys('uploads/');
    const response = await request(frontend()).post('/api/images').attach('file', data, { filename });
    expect(response.status).toBe(status);
    expect(response.body.error).toEqual(expect.any(String));
    expect(await keys('uploads/')).toEqual(before);
  });

  it('asks for the file field', async () => {
    const missing = await request(frontend()).post('/api/images').field('name', 'x').expect(400);
    expect(missing.body.error).toMatch(/file: is required/);
    const wrongField = await request(frontend())
      .post('/api/images')
      .attach('photo', await sampleImage('jpeg'), { filename: 'a.jpg' })
      .expect(400);
    expect(wrongField.body.error).toMatch(/field "file"/);
  });

  it('answers 503 and stores nothing when the object store is down', async () => {
    const response = await request(frontend(s3Client('http://127.0.0.1:9', 1)))
      .post('/api/images')
      .attach('file', await sampleImage('jpeg'), { filename: 'a.jpg' })
      .expect(503);
    expect(response.body).toEqual({ error: 'object store is unavailable' });
  });
});

describe('GET /api/images', () => {
  it('lists uploads with their thumbnail pending or ready, and serves the thumbnail when ready', async () => {
    const app = frontend();
    const { body } = await request(app)
      .post('/api/images')
      .attach('file', await sampleImage('webp'), { filename: 'pic.webp' })
      .expect(201);
    const listed = (await request(app).get('/api/images').expect(200)).body.items;
    expect(listed).toContainEqual(
      expect.objectContaining({ id: body.id, name: 'pic.webp', thumbnail: 'pending' }),
    );
    await request(app).get(`/api/images/${body.id}/thumbnail`).expect(404);

    const thumbnail = await sampleImage('webp', 200, 200);
    await store.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `thumbnails/${body.id}/pic.webp`,
        Body: thumbnail,
        ContentType: 'image/webp',
      }),
    );
    const after = (await request(app).get('/api/images').expect(200)).body.items;
    expect(after).toContainEqual(expect.objectContaining({ id: body.id, thumbnail: 'ready' }));
    const served = await request(app).get(`/api/images/${body.id}/thumbnail`).expect(200);
    expect(served.type).toBe('image/webp');
    expect((served.body as Buffer).length).toBe(thumbnail.length);
  });

  it('answers unknown and malformed ids with 404 and 400', async () => {
    await request(frontend()).get('/api/images/00000000-0000-4000-8000-000000000000').expect(404);
    const bad = await request(frontend()).get('/api/images/..%2F..%2Fetc').expect(400);
    expect(bad.body.error).toMatch(/id/);
  });
});

describe('safeFileName', () => {
  it.each([
    ['my photo ñ.jpg', 'my photo ñ.jpg'],
    ['..\\..\\windows\\x.png', 'x.png'],
    ['/etc/passwd', 'passwd'],
    ['..', 'image.jpg'],
    ['', 'image.jpg'],
    [undefined, 'image.jpg'],
    ['.hidden.jpg', 'hidden.jpg'],
    ['a\u0000b\u202e.jpg', 'ab.jpg'],
  ])('%j -> %j', (name, expected) => {
    expect(safeFileName(name, 'jpeg')).toBe(expected);
  });
});
