import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { InvalidNotificationError, ThumbnailProcessor, TransientError, type RecordResult } from '../src';
import {
  FAILURE_MESSAGE_METADATA_KEY,
  FAILURE_REASON_METADATA_KEY,
  SOURCE_ETAG_METADATA_KEY,
} from '../src/object-store';
import {
  BUCKET,
  decompressionBombPng,
  minioEvent,
  s3Client,
  s3Event,
  s3Record,
  sampleImage,
  startObjectStore,
  truncatedJpeg,
  type ObjectStore,
} from './fixtures';

let store: ObjectStore;
let processor: ThumbnailProcessor;

beforeAll(async () => {
  store = await startObjectStore();
  processor = new ThumbnailProcessor(store.s3);
});

afterAll(() => store.close());

async function upload(key: string, body: Buffer, contentType = 'application/octet-stream'): Promise<void> {
  await store.s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: contentType }),
  );
}

async function download(key: string) {
  const object = await store.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return { data: Buffer.from(await object.Body!.transformToByteArray()), object };
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listing = await store.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (listing.Contents ?? []).map(({ Key }) => Key!);
}

describe('ThumbnailProcessor', () => {
  it.each([
    ['jpeg', 'image/jpeg'],
    ['png', 'image/png'],
    ['webp', 'image/webp'],
  ] as const)('writes a 200x200 %s thumbnail in the source format', async (format, contentType) => {
    const key = `uploads/${format}-1/photo.${format}`;
    await upload(key, await sampleImage(format), contentType);

    const results = await processor.process(s3Event(key));

    expect(results).toEqual([
      expect.objectContaining({
        outcome: 'created',
        key,
        thumbnailKey: `thumbnails/${format}-1/photo.${format}`,
      }),
    ]);
    const { data, object } = await download(`thumbnails/${format}-1/photo.${format}`);
    expect(object.ContentType).toBe(contentType);
    const source = await store.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(object.Metadata?.[SOURCE_ETAG_METADATA_KEY]).toBe(source.ETag!.replace(/"/g, ''));
    expect(await sharp(data).metadata()).toMatchObject({ format, width: 200, height: 200 });
  });

  it('uses the configured size', async () => {
    const key = 'uploads/sized/wide.jpeg';
    await upload(key, await sampleImage('jpeg'));

    await new ThumbnailProcessor(store.s3, { width: 120, height: 80 }).process(s3Event(key));

    const { data } = await download('thumbnails/sized/wide.jpeg');
    expect(await sharp(data).metadata()).toMatchObject({ width: 120, height: 80 });
  });

  it('decodes URL-encoded keys with spaces and non-ASCII characters', async () => {
    const key = 'uploads/42/my photo ñ+más.jpg';
    await upload(key, await sampleImage('jpeg'));
    const event = s3Event(key);
    expect(event.Records[0]!.s3.object.key).toBe('uploads/42/my+photo+%C3%B1%2Bm%C3%A1s.jpg');

    const [result] = await processor.process(event);

    expect(result).toMatchObject({
      outcome: 'created',
      key,
      thumbnailKey: 'thumbnails/42/my photo ñ+más.jpg',
    });
    expect(await keysUnder('thumbnails/42/')).toEqual(['thumbnails/42/my photo ñ+más.jpg']);
  });

  it('ignores events for thumbnails, so writing one cannot trigger another', async () => {
    const key = 'thumbnails/loop/photo.png';
    await upload(key, await sampleImage('png'));

    expect(await processor.process(s3Event(key))).toEqual([
      { outcome: 'skipped', bucket: BUCKET, key, reason: 'thumbnail-key' },
    ]);
    expect(await keysUnder('thumbnails/thumbnails/')).toEqual([]);
  });

  it('accepts the MinIO webhook body', async () => {
    const key = 'uploads/minio-1/cat.png';
    await upload(key, await sampleImage('png'));

    expect(await processor.process(minioEvent(key))).toEqual([
      expect.objectContaining({ outcome: 'created', thumbnailKey: 'thumbnails/minio-1/cat.png' }),
    ]);
  });

  it('accepts a raw JSON body', async () => {
    const key = 'uploads/raw-1/cat.png';
    await upload(key, await sampleImage('png'));

    const [result] = await processor.process(Buffer.from(JSON.stringify(s3Event(key))));

    expect(result).toMatchObject({ outcome: 'created' });
  });

  it('processes every record of a multi-record event', async () => {
    const keys = ['uploads/multi/a.jpg', 'uploads/multi/b.png'];
    await upload(keys[0]!, await sampleImage('jpeg'));
    await upload(keys[1]!, await sampleImage('png'));
    const event = {
      Records: [...keys.map((key) => s3Record(key)), s3Record('uploads/multi/c.jpg', 'ObjectRemoved:Delete')],
    };

    const results = await processor.process(event);

    expect(results.map(({ outcome }) => outcome)).toEqual(['created', 'created', 'skipped']);
    expect(results[2]).toMatchObject({ reason: 'not-object-created' });
    expect(await keysUnder('thumbnails/multi/')).toEqual([
      'thumbnails/multi/a.jpg',
      'thumbnails/multi/b.png',
    ]);
  });

  it('treats a duplicate event as done: one thumbnail, no error', async () => {
    const key = 'uploads/dup/photo.webp';
    await upload(key, await sampleImage('webp'));
    const event = s3Event(key);

    const first = await processor.process(event);
    const { object: written } = await download('thumbnails/dup/photo.webp');
    const second = await processor.process(event);

    expect(first).toEqual([expect.objectContaining({ outcome: 'created' })]);
    expect(second).toEqual([
      { outcome: 'already-exists', bucket: BUCKET, key, thumbnailKey: 'thumbnails/dup/photo.webp' },
    ]);
    expect(await keysUnder('thumbnails/dup/')).toEqual(['thumbnails/dup/photo.webp']);
    const { object: after } = await download('thumbnails/dup/photo.webp');
    expect(after.ETag).toBe(written.ETag);
  });

  it('makes a new thumbnail when the source is replaced under the same key', async () => {
    const key = 'uploads/replaced/photo.jpg';
    await upload(key, await sampleImage('jpeg'));
    await processor.process(s3Event(key));
    await upload(key, await sampleImage('jpeg', 300, 900));

    expect(await processor.process(s3Event(key))).toEqual([expect.objectContaining({ outcome: 'created' })]);
  });

  it.each([
    [
      'corrupt bytes',
      Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(500, 7)]),
      'corrupt-image',
    ],
    ['a text file', Buffer.from('hello, this is not an image\n'), 'unsupported-format'],
  ])('reports %s as a permanent failure without throwing', async (_name, body, reason) => {
    const key = `uploads/bad-${reason}/file.jpg`;
    await upload(key, body);

    const [result] = await processor.process(s3Event(key));

    expect(result).toMatchObject({
      outcome: 'failed',
      reason,
      thumbnailKey: `thumbnails/bad-${reason}/file.jpg`,
    });
    // No thumbnail: an empty failure marker saying why, for the gallery and for redeliveries.
    const { data, object } = await download(`thumbnails/bad-${reason}/file.jpg`);
    expect(data.length).toBe(0);
    expect(object.Metadata).toMatchObject({ [FAILURE_REASON_METADATA_KEY]: reason });
    expect(object.Metadata?.[FAILURE_MESSAGE_METADATA_KEY]).toBe(
      result?.outcome === 'failed' && result.message,
    );
  });

  it('rejects a decompression bomb from its header, with memory staying bounded', async () => {
    const bomb = decompressionBombPng();
    expect(bomb.length).toBeLessThan(100_000);
    const key = 'uploads/bomb/huge.png';
    await upload(key, bomb, 'image/png');
    const rssBefore = process.memoryUsage().rss;

    const [result] = await processor.process(s3Event(key));

    expect(result).toMatchObject({ outcome: 'failed', reason: 'too-many-pixels' });
    // Decoding 20000x20000 would take at least 400 MB.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });

  it('rejects an object larger than maxInputBytes without reading it', async () => {
    const key = 'uploads/big/photo.jpg';
    const image = await sampleImage('jpeg');
    await upload(key, image);

    const small = new ThumbnailProcessor(store.s3, { maxInputBytes: image.length - 1 });

    expect(await small.process(s3Event(key))).toEqual([
      expect.objectContaining({ outcome: 'failed', reason: 'too-large' }),
    ]);
  });

  it('skips an object deleted before its event was processed', async () => {
    const key = 'uploads/gone/photo.jpg';

    expect(await processor.process(s3Event(key))).toEqual([
      { outcome: 'skipped', bucket: BUCKET, key, reason: 'source-missing' },
    ]);
  });

  it('skips keys that are not under uploads/, are unsafe, or cannot be decoded', async () => {
    const event = {
      Records: [
        s3Record('other/1/photo.jpg'),
        s3Record('uploads//photo.jpg'),
        s3Record('uploads/1/../../etc/passwd'),
        { ...s3Record('x'), s3: { bucket: { name: BUCKET }, object: { key: 'uploads/1/%E0%A4%A.jpg' } } },
      ],
    };

    const results = await processor.process(event);

    expect(results.map((result) => (result.outcome === 'skipped' ? result.reason : result.outcome))).toEqual([
      'not-an-upload',
      'not-an-upload',
      'unsafe-key',
      'invalid-key-encoding',
    ]);
  });

  it('rejects a body that is not a notification', async () => {
    await expect(processor.process({ hello: 'world' })).rejects.toThrow(InvalidNotificationError);
    await expect(processor.process('{not json')).rejects.toThrow(InvalidNotificationError);
  });
});

describe('ThumbnailProcessor: failures and conditional writes', () => {
  it("marks a truncated JPEG failed, with the decoder's reason, and says so again on redelivery", async () => {
    const key = 'uploads/truncated/photo.jpg';
    await upload(key, await truncatedJpeg(0.6));

    const [first] = await processor.process(s3Event(key));
    const { object: marker } = await download('thumbnails/truncated/photo.jpg');
    const [again] = await processor.process(s3Event(key));

    expect(first).toMatchObject({ outcome: 'failed', reason: 'corrupt-image' });
    expect(first?.outcome === 'failed' && first.message).toMatch(/premature end of JPEG/i);
    expect(again).toEqual(first);
    const { object: after } = await download('thumbnails/truncated/photo.jpg');
    expect(after.ETag).toBe(marker.ETag);
  });

  it('replaces a failure marker once the upload is replaced by a good image', async () => {
    const key = 'uploads/fixed/photo.jpg';
    await upload(key, Buffer.from('not yet an image'));
    expect(await processor.process(s3Event(key))).toEqual([expect.objectContaining({ outcome: 'failed' })]);
    await upload(key, await sampleImage('jpeg'));

    expect(await processor.process(s3Event(key))).toEqual([expect.objectContaining({ outcome: 'created' })]);
    const { data } = await download('thumbnails/fixed/photo.jpg');
    expect(await sharp(data).metadata()).toMatchObject({ width: 200, height: 200 });
  });

  it('lets one of two makers racing on one upload write the thumbnail; the other finds it there', async () => {
    const key = 'uploads/race/photo.png';
    await upload(key, await sampleImage('png', 900, 700));
    const makers = [new ThumbnailProcessor(store.s3), new ThumbnailProcessor(s3Client(store.endpoint))];

    const results = await Promise.all(makers.map((maker) => maker.process(s3Event(key))));

    expect(results.map(([result]) => result?.outcome).sort()).toEqual(['already-exists', 'created']);
  });

  it("stands back when the upload is replaced while it works: the newer version's thumbnail stays", async () => {
    const key = 'uploads/replaced-meanwhile/photo.jpg';
    await upload(key, await sampleImage('jpeg', 640, 480));
    const newer = await sampleImage('jpeg', 300, 900);
    const slow = s3Client(store.endpoint);
    // Right after this maker has read the old version, the upload is replaced and thumbnailed.
    slow.middlewareStack.add(
      (next, context) => async (args) => {
        const output = await next(args);
        if (context.commandName === 'GetObjectCommand') {
          await upload(key, newer);
          await processor.process(s3Event(key));
        }
        return output;
      },
      { step: 'initialize', name: 'replaceAfterRead' },
    );

    const [result] = await new ThumbnailProcessor(slow).process(s3Event(key));

    expect(result).toMatchObject({ outcome: 'skipped', reason: 'source-replaced' });
    const { data } = await download('thumbnails/replaced-meanwhile/photo.jpg');
    const thumbnail = await sharp(data).metadata();
    expect(thumbnail).toMatchObject({ width: 200, height: 200 });
    const source = await store.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    const { object } = await download('thumbnails/replaced-meanwhile/photo.jpg');
    expect(object.Metadata?.[SOURCE_ETAG_METADATA_KEY]).toBe(source.ETag!.replace(/"/g, ''));
  });
});

describe('ThumbnailProcessor on s3rver as published, which ignores If-None-Match', () => {
  let published: ObjectStore;
  beforeAll(async () => {
    published = await startObjectStore({ asPublished: true });
  });
  afterAll(() => published.close());

  async function put(key: string) {
    await published.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await sampleImage('jpeg') }),
    );
  }
  const etagOf = async (key: string) =>
    (await published.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ETag;

  it('with conditional writes on, rewrites the same bytes on a redelivery: the thumbnail stays right', async () => {
    await put('uploads/p1/photo.jpg');
    const maker = new ThumbnailProcessor(published.s3);

    const first = await maker.process(s3Event('uploads/p1/photo.jpg'));
    const before = await etagOf('thumbnails/p1/photo.jpg');
    const second = await maker.process(s3Event('uploads/p1/photo.jpg'));

    expect([first[0]?.outcome, second[0]?.outcome]).toEqual(['created', 'created']);
    expect(await etagOf('thumbnails/p1/photo.jpg')).toBe(before);
  });

  it('with conditionalWrites: false, looks first, so a redelivery is a no-op', async () => {
    await put('uploads/p2/photo.jpg');
    const maker = new ThumbnailProcessor(published.s3, { conditionalWrites: false });

    const first = await maker.process(s3Event('uploads/p2/photo.jpg'));
    const second = await maker.process(s3Event('uploads/p2/photo.jpg'));

    expect([first[0]?.outcome, second[0]?.outcome]).toEqual(['created', 'already-exists']);
  });
});

describe('ThumbnailProcessor with the object store down', () => {
  it('throws TransientError after attempting every record', async () => {
    const downStore = await startObjectStore();
    await downStore.close();
    const downProcessor = new ThumbnailProcessor(s3Client(downStore.endpoint, 1));
    const event = s3Event('uploads/down/a.jpg', 'thumbnails/down/a.jpg', 'uploads/down/b.jpg');

    const error: unknown = await downProcessor.process(event).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(TransientError);
    const { failures, results } = error as TransientError;
    expect(failures.map(({ key }) => key)).toEqual(['uploads/down/a.jpg', 'uploads/down/b.jpg']);
    expect(results).toEqual<RecordResult[]>([
      { outcome: 'skipped', bucket: BUCKET, key: 'thumbnails/down/a.jpg', reason: 'thumbnail-key' },
    ]);
    expect((error as TransientError).cause).toBeDefined();
  });
});
