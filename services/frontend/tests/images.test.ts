import { Writable } from 'node:stream';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { checkBucket, imageIdFor, sourceKeyFor, ThumbnailProcessor } from '@twin/thumbnails';
import request from 'supertest';
import { createLogger } from '@twin/observability';
import { createFrontendApp } from '../src/app';
import { BackendClient } from '../src/backend-client';
import { ImageStore } from '../src/image-store';
import { safeFileName } from '../src/image-upload';
import {
  BUCKET,
  decompressionBombPng,
  heicBrandedFile,
  imageIn,
  type ObjectStore,
  rotatedPhoto,
  s3Client,
  s3Event,
  sampleImage,
  startObjectStore,
  truncatedJpeg,
  UPLOAD_FORMATS,
} from '../../../packages/thumbnails/tests/fixtures';

const logger = createLogger('frontend-test', 'silent');
const limits = { maxBytes: 1024 * 1024, maxPixels: 50_000_000 };
let store: ObjectStore;

beforeAll(async () => {
  store = await startObjectStore();
});
afterAll(() => store.close());

function frontend(s3 = store.s3, log = logger) {
  return createFrontendApp({
    backend: new BackendClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 200 }),
    images: new ImageStore(s3, BUCKET),
    uploadLimits: limits,
    version: '1.0.0',
    logger: log,
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
      id: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
      name: 'my photo ñ.jpg',
      key: expect.stringMatching(/^uploads\/\d{13}-[0-9a-f]{16}\/my photo ñ\.jpg$/),
      contentType: 'image/png',
      bytes: image.length,
      width: 640,
      height: 480,
    });
    expect(sourceKeyFor(response.body.id)).toBe(response.body.key);
    const folder = response.body.key.slice(0, response.body.key.lastIndexOf('/') + 1);
    expect(await keys(folder)).toEqual([response.body.key]);

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
    expect(response.body.key).toMatch(/^uploads\/[^/]+\/x\.jpg$/);
    expect(await keys(response.body.key)).toEqual([response.body.key]);
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
    const oneImage = { error: 'file: send one image in the field "file"', field: 'file' };
    expect(wrongField.body).toEqual(oneImage);
    const image = await sampleImage('jpeg');
    const twoFiles = await request(frontend())
      .post('/api/images')
      .attach('file', image, { filename: 'a.jpg' })
      .attach('file', image, { filename: 'b.jpg' })
      .expect(400);
    expect(twoFiles.body).toEqual(oneImage);
    expect(missing.body.field).toBe('file');
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
        Key: body.key.replace(/^uploads\//, 'thumbnails/'),
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

  it('logs a thumbnail not made yet at info, as the page asks for it every second, and an unknown image at warn', async () => {
    const lines: Array<{ level: string; req: { url: string }; res: { statusCode: number } }> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const app = frontend(store.s3, createLogger('frontend-test', 'info', sink));
    const { body } = await request(app)
      .post('/api/images')
      .attach('file', await sampleImage('jpeg'), { filename: 'wait.jpg' })
      .expect(201);
    await request(app)
      .get(`/api/images/${body.id}/thumbnail`)
      .expect(404, /"thumbnail":"pending"/);
    const unknown = imageIdFor('uploads/nothing/here.jpg');
    await request(app).get(`/api/images/${unknown}`).expect(404);
    expect(lines.map((line) => [line.req.url, line.res.statusCode, line.level])).toEqual([
      ['/api/images', 201, 'info'],
      [`/api/images/${body.id}/thumbnail`, 404, 'info'],
      [`/api/images/${unknown}`, 404, 'warn'],
    ]);
  });

  it('answers unknown and malformed ids with 404 and 400', async () => {
    const unknown = imageIdFor('uploads/nothing/here.jpg');
    for (const url of [`/api/images/${unknown}`, `/api/images/${unknown}/thumbnail`]) {
      const answer = await request(frontend()).get(url).expect(404);
      expect(answer.body).toEqual({ error: `image ${unknown} not found` });
    }
    for (const bad of ['..%2F..%2Fetc', imageIdFor('uploads/a/../../etc/passwd'), 'a+b', '%E2%9C%93']) {
      const answer = await request(frontend()).get(`/api/images/${bad}/thumbnail`).expect(400);
      expect(answer.body).toEqual({ error: 'id: is not an image id', field: 'id' });
    }
  });

  it('lists objects written to the bucket by anything, each as its own image', async () => {
    const app = frontend();
    const keys = ['uploads/cp/photo.jpg', 'uploads/cp/shared/a 100%+.jpg', 'uploads/cp/shared/b.jpg'];
    for (const key of [...keys, 'uploads/cp/shared/newfolder/']) {
      const body = key.endsWith('/') ? Buffer.alloc(0) : await sampleImage('jpeg');
      // As `aws s3 cp` sends them: the type guessed from the name, none for a folder.
      const ContentType = key.endsWith('/') ? undefined : 'image/jpeg';
      await store.s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType,
        }),
      );
    }
    const { items } = (await request(app).get('/api/images?limit=100').expect(200)).body as {
      items: Array<{ id: string; key: string; name: string; imageUrl: string }>;
    };
    const listed = items.filter((item) => item.key.startsWith('uploads/cp/'));
    expect(listed.map((item) => item.key)).toEqual(keys);
    expect(listed.map((item) => item.name)).toEqual(['photo.jpg', 'a 100%+.jpg', 'b.jpg']);
    for (const item of listed) {
      const served = await request(app).get(item.imageUrl).expect(200);
      expect(served.type).toBe('image/jpeg');
    }
  });

  it('shows a thumbnail that will never come as failed, with the reason, in the list and at its URL', async () => {
    const app = frontend();
    const { body } = await request(app)
      .post('/api/images')
      .attach('file', await truncatedJpeg(0.6), { filename: 'cut.jpg' })
      .expect(201);
    await new ThumbnailProcessor(store.s3).process(s3Event(body.key));

    const listed = (await request(app).get('/api/images').expect(200)).body.items;
    expect(listed).toContainEqual(
      expect.objectContaining({ id: body.id, thumbnail: 'failed', reason: 'corrupt-image' }),
    );
    const thumbnail = await request(app).get(body.thumbnailUrl).expect(404);
    expect(thumbnail.body).toMatchObject({ thumbnail: 'failed', reason: 'corrupt-image' });
    expect(thumbnail.body.message).toMatch(/premature end of JPEG/i);
  });

  it('pages the list: limit, and nextCursor until the last page, newest upload first', async () => {
    const app = frontend();
    const uploaded: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const { body } = await request(app)
        .post('/api/images')
        .attach('file', await sampleImage('png', 40 + i, 30), { filename: `page ${i}.png` })
        .expect(201);
      uploaded.unshift(body.id);
    }
    const first = (await request(app).get('/api/images?limit=2').expect(200)).body;
    expect(first.items.map((item: { id: string }) => item.id)).toEqual(uploaded.slice(0, 2));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const query = cursor === undefined ? '' : `&cursor=${cursor}`;
      const page = (await request(app).get(`/api/images?limit=2${query}`).expect(200)).body;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item: { id: string }) => item.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 5)).toEqual(uploaded);
    const all = (await request(app).get('/api/images?limit=100').expect(200)).body.items;
    expect(seen).toEqual(all.map((item: { id: string }) => item.id));
  });

  it.each([
    ['limit=0', 'limit', /at least 1/],
    ['limit=101', 'limit', /at most 100/],
    ['limit=ten', 'limit', /number/],
    ['cursor=%25%25', 'cursor', /not a cursor/],
    ['cursor=a&cursor=b', 'cursor', /once/],
    ['limit=1&limit=2', 'limit', /once/],
    [`cursor=${'a'.repeat(2049)}`, 'cursor', /too long/],
  ])('answers ?%s with 400 naming the field', async (query, field, message) => {
    const answer = await request(frontend()).get(`/api/images?${query}`).expect(400);
    expect(answer.body).toMatchObject({ field, error: expect.stringMatching(message) });
  });
});

describe('every format the README lists', () => {
  it.each(UPLOAD_FORMATS)('takes %s, typed from its bytes', async (format) => {
    const response = await request(frontend())
      .post('/api/images')
      .attach('file', await imageIn(format, 64, 48), { filename: `picture.${format}` })
      .expect(201);
    expect(response.body).toMatchObject({ contentType: `image/${format}`, width: 64, height: 48 });
  });

  it.each([
    ['HEIC, saying so', () => heicBrandedFile(), /HEIC is not supported/],
    [
      'SVG (scripts would run from this origin)',
      async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
      /not a supported image \(jpeg, png, webp, gif, avif, tiff\)/,
    ],
    [
      'SVG without a size, as any SVG',
      async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>'),
      /^file: not a supported image \(jpeg, png, webp, gif, avif, tiff\)$/,
    ],
  ])('refuses %s with 415', async (_case, make, message) => {
    const response = await request(frontend())
      .post('/api/images')
      .attach('file', await make(), { filename: 'x.img' });
    expect(response.status).toBe(415);
    expect(response.body).toMatchObject({ field: 'file', error: expect.stringMatching(message) });
  });

  it("reports a phone photo's size as displayed (EXIF orientation 6)", async () => {
    const response = await request(frontend())
      .post('/api/images')
      .attach('file', await rotatedPhoto(400, 200), { filename: 'upright.jpg' })
      .expect(201);
    expect(response.body).toMatchObject({ width: 200, height: 400 });
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
