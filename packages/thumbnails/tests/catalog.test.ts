import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  imageIdFor,
  InvalidCursorError,
  type ImageEntry,
  listImages,
  readThumbnail,
  sourceKeyFor,
  ThumbnailProcessor,
} from '../src';
import { BUCKET, type ObjectStore, s3Event, sampleImage, startObjectStore } from './fixtures';

let store: ObjectStore;
let processor: ThumbnailProcessor;

beforeAll(async () => {
  store = await startObjectStore();
  processor = new ThumbnailProcessor(store.s3);
});
afterAll(() => store.close());

async function put(key: string, body: Buffer | string): Promise<void> {
  const bytes = Buffer.from(body);
  await store.s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes, ContentLength: bytes.length }),
  );
}

/** Every page, following nextCursor, and the pages' sizes. */
async function allPages(limit: number): Promise<{ items: ImageEntry[]; sizes: number[] }> {
  const items: ImageEntry[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await listImages(store.s3, BUCKET, { limit, cursor });
    items.push(...page.items);
    sizes.push(page.items.length);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return { items, sizes };
}

describe('listImages and readThumbnail', () => {
  // What a bucket holds after uploads through the frontend, `aws s3 cp`, and a console "folder".
  const images = [
    'uploads/8235409871234-3f9c0a7d12e4b5c6/my photo ñ.jpg',
    'uploads/8235409871235-00aa/b.png',
    'uploads/photo.jpg',
    'uploads/shared/a.jpg',
    'uploads/shared/b.jpg',
    'uploads/shared/100% + más.png',
  ];
  const empty = 'uploads/shared/empty.jpg';
  const placeholders = ['uploads/shared/', 'uploads/shared/newfolder/'];
  const pending = 'uploads/shared/not yet.png';

  beforeAll(async () => {
    for (const key of images) await put(key, await sampleImage(key.endsWith('.png') ? 'png' : 'jpeg'));
    await put(empty, '');
    for (const key of placeholders) await put(key, '');
    await processor.process(s3Event(...images, empty));
    await put(pending, await sampleImage('png'));
  });

  it('lists every object under uploads/ as one image with its own thumbnail state, placeholders left out', async () => {
    const { items } = await listImages(store.s3, BUCKET, { limit: 100 });

    expect(items.map((item) => item.key).sort()).toEqual([...images, empty, pending].sort());
    const byKey = new Map(items.map((item) => [item.key, item]));
    for (const key of images)
      expect(byKey.get(key)).toMatchObject({ thumbnail: 'ready', id: imageIdFor(key) });
    expect(byKey.get(empty)).toMatchObject({ thumbnail: 'failed', reason: 'corrupt-image', bytes: 0 });
    expect(byKey.get(empty)?.message).toMatch(/empty/);
    expect(byKey.get(pending)).toMatchObject({ thumbnail: 'pending', name: 'not yet.png' });
    expect(byKey.get('uploads/shared/100% + más.png')?.name).toBe('100% + más.png');
  });

  it('gives every key a distinct URL-safe id that leads back to it', async () => {
    const { items } = await listImages(store.s3, BUCKET, { limit: 100 });
    expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
    for (const item of items) {
      expect(item.id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(sourceKeyFor(item.id)).toBe(item.key);
    }
  });

  it("lists in S3 key order, which puts the frontend's newest-first folders before other names", async () => {
    const { items } = await listImages(store.s3, BUCKET, { limit: 100 });
    const keys = items.map((item) => item.key);
    expect(keys).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(keys.slice(0, 2)).toEqual(images.slice(0, 2));
  });

  it.each([1, 2, 3, 100])('pages %i at a time through every image once, in order', async (limit) => {
    const whole = (await listImages(store.s3, BUCKET, { limit: 100 })).items;
    const { items, sizes } = await allPages(limit);
    expect(items).toEqual(whole);
    expect(sizes.slice(0, -1).every((size) => size === limit)).toBe(true);
    expect(sizes.at(-1)).toBeGreaterThan(0);
  });

  it('refuses a cursor it did not make', async () => {
    await expect(listImages(store.s3, BUCKET, { limit: 5, cursor: 'not base64url!' })).rejects.toThrow(
      InvalidCursorError,
    );
  });

  it('reads a thumbnail ready, pending or failed, and says when there is no image', async () => {
    const ready = await readThumbnail(store.s3, BUCKET, images[0]!);
    expect(ready).toMatchObject({ state: 'ready', contentType: 'image/jpeg' });
    if (ready.state === 'ready') ready.body.destroy();
    expect(await readThumbnail(store.s3, BUCKET, pending)).toEqual({ state: 'pending' });
    expect(await readThumbnail(store.s3, BUCKET, 'uploads/never/uploaded.png')).toEqual({
      state: 'no-image',
    });
    expect(await readThumbnail(store.s3, BUCKET, empty)).toMatchObject({
      state: 'failed',
      reason: 'corrupt-image',
    });
  });

  it('reads a failure of an older version as pending once the upload is replaced', async () => {
    const key = 'uploads/shared/second try.jpg';
    await put(key, 'broken');
    await processor.process(s3Event(key));
    const id = imageIdFor(key);
    const state = async () =>
      (await listImages(store.s3, BUCKET, { limit: 100 })).items.find((i) => i.id === id);
    expect(await state()).toMatchObject({ thumbnail: 'failed', reason: 'unsupported-format' });

    await put(key, await sampleImage('jpeg'));

    expect(await state()).toMatchObject({ thumbnail: 'pending' });
    expect(await readThumbnail(store.s3, BUCKET, key)).toEqual({ state: 'pending' });
    await processor.process(s3Event(key));
    expect(await state()).toMatchObject({ thumbnail: 'ready' });
  });
});
