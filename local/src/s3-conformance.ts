import type S3rver from 's3rver';

// s3rver 3.7.1 (its latest release) differs from S3 where the images feature depends on S3:
// - a PutObject is not atomic: it writes the object's file in place, so a GetObject meanwhile reads
//   an empty or half-written object (a thumbnail being written, served cut short);
// - PutObject ignores If-None-Match and If-Match (its object controller reads If-None-Match on GET only),
//   so two thumbnail makers racing on one upload could not tell who came first;
// - a ListObjectsV2 answer that is truncated fails with 500 InternalError on Node 17 and later: its
//   continuation tokens are DES-encrypted, and OpenSSL 3 no longer offers DES;
// - it lists keys in the order of its folder walk, where `a/b` comes before `a.jpg`; S3 lists in the
//   order of the keys' UTF-8 bytes.
// conformToS3 puts S3's behaviour in front of it for these. It is an emulation of S3 as documented:
// consistency https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel,
// conditional writes https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html,
// listing https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html.

interface StoredObject {
  key: string;
}

interface ListResult {
  objects: StoredObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
}

interface ListOptions {
  prefix?: string;
  startAfter?: string;
  delimiter?: string;
  maxKeys?: number;
}

/** The parts of s3rver (a Koa application) this file works with; s3rver ships no types. */
interface S3rverInternals {
  middleware: Middleware[];
  silent: boolean;
  store: BucketStore & {
    listObjects(bucket: string, options: ListOptions): Promise<ListResult>;
    getMetadata(bucket: string, key: string): Promise<{ etag: string }>;
  };
}

/** s3rver's filesystem store: buckets and their configurations (subresources: cors, website...). */
interface BucketStore {
  getBucket(bucket: string): Promise<unknown>;
  putBucket(bucket: string): Promise<unknown>;
  deleteBucket(bucket: string): Promise<unknown>;
  getSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>;
  putSubresource(bucket: string, key: string | undefined, resource: { type: string }): Promise<unknown>;
  deleteSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>;
  reset(): void;
}

interface Context {
  method: string;
  res: { once(event: 'close', listener: () => void): void };
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
}

type Middleware = (ctx: Context, next: () => Promise<void>) => Promise<void>;

/** The longest listing S3 returns in one answer. */
const MAX_KEYS = 1000;
const LIST_PARAMETERS = new Set([
  'list-type',
  'prefix',
  'max-keys',
  'start-after',
  'continuation-token',
  'marker',
  'encoding-type',
  'fetch-owner',
  'x-id',
]);
/** Continuation tokens of this emulation: the last key of the page, in base64url. */
const TOKEN_PREFIX = 'twin-';

const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * Makes an s3rver (before `run()`) serve each object request whole (a write excludes reads and other
 * writes of its key), honour If-None-Match / If-Match on PutObject, and list as S3 does. Only how it
 * answers changes; what it stores does not. It also spends less per request: no request log when
 * silent, buckets and their configurations looked up in memory (rememberBuckets).
 */
export function conformToS3(server: S3rver): void {
  const internals = server as unknown as S3rverInternals;
  const { store } = internals;
  if (internals.silent) dropRequestLogger(internals);
  rememberBuckets(store);
  const locks = new KeyLocks();
  const list = store.listObjects.bind(store);
  // Everything after startAfter, in S3's order; the middleware below cuts the page. s3rver itself
  // must never truncate: that is where its DES continuation tokens would be made. A key being written
  // is left out, as S3 lists an object once its write completes.
  store.listObjects = async (bucket, { startAfter = '', maxKeys: _ignored, ...options }) => {
    const all = await list(bucket, { ...options, startAfter: '', maxKeys: Infinity });
    const objects = all.objects
      .filter((object) => byUtf8(object.key, startAfter) > 0 && !locks.writing(`${bucket}/${object.key}`))
      .sort((a, b) => byUtf8(a.key, b.key));
    return { ...all, objects, isTruncated: false };
  };
  // Before s3rver's router, which is the last of its middleware: after its XML encoding, so bodies set
  // here are still objects, and around its authentication, which runs inside the router.
  internals.middleware.splice(
    internals.middleware.length - 1,
    0,
    wholeObjects(locks),
    conditionalPut(internals),
    pagedList,
  );
}

/**
 * s3rver logs each request through koa-logger even when silent (the text is formatted, coloured and
 * then dropped by a silent transport): about a tenth of its CPU per request. Silent, it goes.
 */
function dropRequestLogger(internals: S3rverInternals): void {
  const at = internals.middleware.findIndex((middleware) => middleware.name === 'logger');
  if (at >= 0) internals.middleware.splice(at, 1);
}

/**
 * s3rver looks its bucket up on disk for every request: a stat of the bucket's folder, and a read
 * of its CORS and website configuration files, which fail when there are none (the usual case):
 * three file system calls before the object is touched, a poll for a missing thumbnail included.
 * Every change to them goes through this store (the S3 API or s3rver's configureBuckets), so the
 * answers are kept in memory and forgotten when one of them changes them.
 */
function rememberBuckets(store: BucketStore): void {
  const buckets = new Map<string, Promise<unknown>>();
  const configs = new Map<string, Promise<unknown>>();
  const remembered = <T>(cache: Map<string, Promise<T>>, id: string, read: () => Promise<T>) => {
    let answer = cache.get(id);
    if (!answer) {
      answer = read();
      cache.set(id, answer);
      // A failed read is not an answer.
      answer.catch(() => cache.delete(id));
    }
    return answer;
  };
  const forgetting =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>, forget: (...args: A) => void) =>
    async (...args: A): Promise<R> => {
      forget(...args);
      try {
        return await write(...args);
      } finally {
        forget(...args);
      }
    };
  const forgetBucket = (bucket: string) => {
    buckets.delete(bucket);
    for (const id of configs.keys()) if (id.startsWith(`${bucket}/`)) configs.delete(id);
  };
  const { getBucket, putBucket, deleteBucket, getSubresource, putSubresource, deleteSubresource, reset } =
    bindAll(store);
  store.getBucket = (bucket) => remembered(buckets, bucket, () => getBucket(bucket));
  store.putBucket = forgetting(putBucket, forgetBucket);
  store.deleteBucket = forgetting(deleteBucket, forgetBucket);
  // Only the bucket's own configurations (no key); an object's subresources (tagging) are read as before.
  store.getSubresource = (bucket, key, type) =>
    key === undefined
      ? remembered(configs, `${bucket}/${type}`, () => getSubresource(bucket, key, type))
      : getSubresource(bucket, key, type);
  store.putSubresource = forgetting(putSubresource, (bucket, _key, resource) =>
    configs.delete(`${bucket}/${resource.type}`),
  );
  store.deleteSubresource = forgetting(deleteSubresource, (bucket, _key, type) =>
    configs.delete(`${bucket}/${type}`),
  );
  store.reset = () => {
    buckets.clear();
    configs.clear();
    reset();
  };
}

function bindAll(store: BucketStore): BucketStore {
  return {
    getBucket: store.getBucket.bind(store),
    putBucket: store.putBucket.bind(store),
    deleteBucket: store.deleteBucket.bind(store),
    getSubresource: store.getSubresource.bind(store),
    putSubresource: store.putSubresource.bind(store),
    deleteSubresource: store.deleteSubresource.bind(store),
    reset: store.reset.bind(store),
  };
}

/** A read/write lock per key, first come first served, so a stream of reads cannot starve a write. */
class KeyLocks {
  private readonly locks = new Map<
    string,
    { readers: number; writer: boolean; queue: Array<{ write: boolean; grant: () => void }> }
  >();

  /** Resolves once granted, with the function that releases it (once; later calls do nothing). */
  acquire(id: string, write: boolean): Promise<() => void> {
    let lock = this.locks.get(id);
    if (!lock) {
      lock = { readers: 0, writer: false, queue: [] };
      this.locks.set(id, lock);
    }
    const held = lock;
    return new Promise((resolve) => {
      held.queue.push({
        write,
        grant: () => {
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            if (write) held.writer = false;
            else held.readers -= 1;
            this.pump(id, held);
          });
        },
      });
      this.pump(id, held);
    });
  }

  writing(id: string): boolean {
    return this.locks.get(id)?.writer ?? false;
  }

  private pump(
    id: string,
    lock: { readers: number; writer: boolean; queue: Array<{ write: boolean; grant: () => void }> },
  ): void {
    for (let next = lock.queue[0]; next; next = lock.queue[0]) {
      if (lock.writer || (next.write && lock.readers > 0)) break;
      lock.queue.shift();
      if (next.write) lock.writer = true;
      else lock.readers += 1;
      next.grant();
    }
    if (!lock.writer && lock.readers === 0 && lock.queue.length === 0) this.locks.delete(id);
  }
}

/**
 * Every request on one object: GET and HEAD share its key, anything else (PUT, copy, DELETE, a
 * multipart upload's completion) has it alone, until the answer is sent. So a reader sees an object
 * before or after a write, never during it, as S3 guarantees.
 */
function wholeObjects(locks: KeyLocks): Middleware {
  return async (ctx, next) => {
    const target = objectPath(ctx.path);
    if (!target) return next();
    const release = await locks.acquire(
      `${target.bucket}/${target.key}`,
      ctx.method !== 'GET' && ctx.method !== 'HEAD',
    );
    // The body streams after the middleware returns: the answer is whole once the response closes.
    ctx.res.once('close', release);
    try {
      await next();
    } catch (error) {
      release();
      throw error;
    }
  };
}

/** `/bucket/key` -> bucket and key (path-style requests, as every client of the local stack sends). */
function objectPath(path: string): { bucket: string; key: string } | undefined {
  const match = /^\/([^/]+)\/(.+)$/.exec(path);
  return match ? { bucket: decodeURIComponent(match[1]!), key: decodeURIComponent(match[2]!) } : undefined;
}

function header(ctx: Context, name: string): string | undefined {
  const value = ctx.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function s3Error(ctx: Context, status: number, code: string, message: string, detail: object = {}): void {
  ctx.status = status;
  ctx.body = { Error: { Code: code, Message: message, ...detail } };
}

/**
 * PutObject with If-None-Match: * writes only when no object has the key; with If-Match: <etag>, only
 * when the object has that ETag (404 NoSuchKey when there is none). Otherwise 412 PreconditionFailed and
 * nothing is written. wholeObjects, before it, gives the request its key alone: check and write are one step.
 */
function conditionalPut({ store }: S3rverInternals): Middleware {
  return async (ctx, next) => {
    const target = objectPath(ctx.path);
    const ifNoneMatch = header(ctx, 'if-none-match');
    const ifMatch = header(ctx, 'if-match');
    // The SDK names the operation in `x-id`; any other parameter is a subresource (?tagging, ?partNumber).
    const subresource = Object.keys(ctx.query).some((name) => name !== 'x-id');
    if (ctx.method !== 'PUT' || !target || subresource || (!ifNoneMatch && !ifMatch)) return next();
    const etag = await store.getMetadata(target.bucket, target.key).then(
      (metadata) => metadata.etag,
      () => undefined,
    );
    const failed = (condition: string) =>
      s3Error(
        ctx,
        412,
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
        {
          Condition: condition,
        },
      );
    if (ifNoneMatch === '*' && etag !== undefined) return failed('If-None-Match');
    if (ifMatch !== undefined && etag === undefined) {
      return s3Error(ctx, 404, 'NoSuchKey', 'The specified key does not exist.', { Key: target.key });
    }
    if (ifMatch !== undefined && unquote(ifMatch) !== unquote(etag)) return failed('If-Match');
    await next();
  };
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/"/g, '');
}

interface ListBody {
  ListBucketResult: {
    Contents: Array<{ Key: string }>;
    [field: string]: unknown;
  };
}

/**
 * GET Bucket without a delimiter: at most max-keys objects (1000 at most) per answer, with
 * IsTruncated, and for ListObjectsV2 a NextContinuationToken that the next request may send back.
 */
const pagedList: Middleware = async (ctx, next) => {
  const bucketOnly = /^\/[^/]+\/?$/.test(ctx.path);
  const subresource = Object.keys(ctx.query).some((name) => !LIST_PARAMETERS.has(name));
  if (ctx.method !== 'GET' || !bucketOnly || subresource || ctx.query.delimiter) return next();
  const { 'max-keys': maxKeysText, 'continuation-token': token, ...query } = ctx.query;
  const maxKeys = Math.min(MAX_KEYS, maxKeysText === undefined ? MAX_KEYS : Number(maxKeysText));
  if (!Number.isInteger(maxKeys) || maxKeys < 0) return next();
  const v2 = query['list-type'] === '2';
  if (typeof token === 'string') {
    if (!v2 || !token.startsWith(TOKEN_PREFIX)) {
      return s3Error(ctx, 400, 'InvalidArgument', 'The continuation token provided is incorrect', {
        ArgumentName: 'continuation-token',
      });
    }
    query['start-after'] = Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8');
  }
  ctx.query = query;
  await next();
  const body = ctx.body as ListBody | undefined;
  if (ctx.status !== 200 || !body?.ListBucketResult) return;
  const result = body.ListBucketResult;
  const contents = result.Contents;
  const page = contents.slice(0, maxKeys);
  const truncated = contents.length > maxKeys;
  const last = page.at(-1)?.Key;
  Object.assign(result, {
    Contents: page,
    MaxKeys: maxKeysText ?? MAX_KEYS,
    IsTruncated: truncated,
    ...(v2
      ? {
          KeyCount: page.length,
          StartAfter: typeof token === 'string' ? undefined : result.StartAfter,
          ContinuationToken: token,
          NextContinuationToken:
            truncated && last !== undefined
              ? TOKEN_PREFIX + Buffer.from(last, 'utf8').toString('base64url')
              : undefined,
        }
      : { NextMarker: undefined }),
  });
};
