import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { BUCKET, type ObjectStore, startObjectStore } from '../../packages/thumbnails/tests/fixtures';

// What s3rver 3.7.1 does as published, and what the local stack's s3rver does (conformToS3): S3's
// conditional writes and paged, byte-ordered listings.

const status = (error: unknown) =>
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

function putter(store: ObjectStore) {
  return async (key: string, body: string, condition: { IfNoneMatch?: string; IfMatch?: string } = {}) => {
    try {
      const { ETag } = await store.s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from(body), ...condition }),
      );
      return { status: 200, etag: ETag };
    } catch (error) {
      return { status: status(error), code: (error as Error).name };
    }
  };
}

async function everyKey(store: ObjectStore, prefix: string, maxKeys: number): Promise<string[][]> {
  const pages: string[][] = [];
  let token: string | undefined;
  do {
    const listing = await store.s3.send(
      new ListObjectsV2Command({
        Bucket: BUCKET,
        Prefix: prefix,
        MaxKeys: maxKeys,
        ContinuationToken: token,
      }),
    );
    pages.push((listing.Contents ?? []).map((object) => object.Key!));
    token = listing.IsTruncated ? listing.NextContinuationToken : undefined;
  } while (token);
  return pages;
}

describe('s3rver 3.7.1 as published', () => {
  let store: ObjectStore;
  beforeAll(async () => {
    store = await startObjectStore({ asPublished: true });
  });
  afterAll(() => store.close());

  it('ignores If-None-Match: * on PutObject and overwrites', async () => {
    const put = putter(store);
    await put('cond/a', 'first');
    expect(await put('cond/a', 'second', { IfNoneMatch: '*' })).toMatchObject({ status: 200 });
  });

  it('fails a ListObjectsV2 that it would have to truncate (500), on this Node', async () => {
    const put = putter(store);
    for (const key of ['list/a', 'list/b', 'list/c']) await put(key, 'x');
    const error = await store.s3
      .send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', MaxKeys: 2 }))
      .catch((thrown: unknown) => thrown);
    expect(status(error)).toBe(500);
  });
});

describe("the local stack's s3rver (conformToS3)", () => {
  let store: ObjectStore;
  beforeAll(async () => {
    store = await startObjectStore();
  });
  afterAll(() => store.close());

  it('honours If-None-Match: * and If-Match on PutObject', async () => {
    const put = putter(store);
    const created = await put('cond/a', 'first', { IfNoneMatch: '*' });
    expect(created).toMatchObject({ status: 200 });
    expect(await put('cond/a', 'second', { IfNoneMatch: '*' })).toEqual({
      status: 412,
      code: 'PreconditionFailed',
    });
    expect(await put('cond/a', 'third', { IfMatch: '"0123456789abcdef0123456789abcdef"' })).toMatchObject({
      status: 412,
    });
    expect(await put('cond/a', 'fourth', { IfMatch: created.etag })).toMatchObject({ status: 200 });
    expect(await put('cond/missing', 'x', { IfMatch: created.etag })).toEqual({
      status: 404,
      code: 'NoSuchKey',
    });
    const object = await store.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'cond/' }));
    expect(object.Contents?.map((o) => [o.Key, o.Size])).toEqual([['cond/a', 'fourth'.length]]);
  });

  it('serves an object whole or not at all while it is being written', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 7);
    const reads: number[] = [];
    let writing = true;
    const write = store.s3
      .send(new PutObjectCommand({ Bucket: BUCKET, Key: 'whole/big', Body: big, ContentLength: big.length }))
      .finally(() => (writing = false));
    while (writing) {
      try {
        const object = await store.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'whole/big' }));
        reads.push((await object.Body!.transformToByteArray()).length);
      } catch (error) {
        expect(status(error)).toBe(404);
        reads.push(0);
      }
    }
    await write;
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((length) => length === 0 || length === big.length)).toBe(true);
  });

  it('lets exactly one of 10 simultaneous If-None-Match writes to a new key through', async () => {
    const put = putter(store);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => put('cond/race', `writer ${i}`, { IfNoneMatch: '*' })),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 412)).toHaveLength(9);
  });

  it("pages a listing with continuation tokens, in the order of the keys' UTF-8 bytes", async () => {
    const put = putter(store);
    // s3rver's own walk puts `a/b.jpg` (a folder) before `a.jpg`; S3 does not ('.' < '/').
    const keys = ['p/a/b.jpg', 'p/a.jpg', 'p/a-1.jpg', 'p/Z.jpg', 'p/é.jpg', 'p/z.jpg', 'p/🦤.jpg'];
    for (let i = 0; i < 20; i += 1) keys.push(`p/n${String(i).padStart(2, '0')}`);
    for (const key of [...keys].reverse()) await put(key, 'x');
    const ordered = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

    const pages = await everyKey(store, 'p/', 4);

    expect(pages.flat()).toEqual(ordered);
    expect(pages.map((page) => page.length)).toEqual([4, 4, 4, 4, 4, 4, 3]);
    expect(ordered.indexOf('p/a.jpg')).toBeLessThan(ordered.indexOf('p/a/b.jpg'));
  });

  it('answers from the bucket as it is now, after its CORS configuration and the bucket itself change', async () => {
    // A CORS preflight is answered from the bucket's configuration, read from disk or from memory.
    const preflight = () =>
      fetch(`${store.endpoint}/${BUCKET}/cors/a.jpg`, {
        method: 'OPTIONS',
        headers: { origin: 'http://page.test', 'access-control-request-method': 'GET' },
      }).then((response) => response.headers.get('access-control-allow-origin'));
    const cors = {
      Bucket: BUCKET,
      CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['http://page.test'], AllowedMethods: ['GET'] }] },
    };
    expect(await preflight()).toBeNull();
    await store.s3.send(new PutBucketCorsCommand(cors));
    // s3rver answers a matching rule's preflight with `*`.
    expect(await preflight()).not.toBeNull();
    await store.s3.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }));
    expect(await preflight()).toBeNull();

    const head = (Bucket: string) =>
      store.s3.send(new HeadBucketCommand({ Bucket })).then(
        () => 200,
        (error: unknown) => status(error),
      );
    expect(await head('other')).toBe(404);
    await store.s3.send(new CreateBucketCommand({ Bucket: 'other' }));
    expect(await head('other')).toBe(200);
    await store.s3.send(new DeleteBucketCommand({ Bucket: 'other' }));
    expect(await head('other')).toBe(404);
  });
});
