import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type _Object, type S3Client } from '@aws-sdk/client-s3';
import type { RejectionReason } from './errors';
import {
  imageIdFor,
  keyOfImageId,
  type KeySkipReason,
  THUMBNAILS_PREFIX,
  thumbnailKeyFor,
  UPLOADS_PREFIX,
} from './keys';
import {
  currentETag,
  headThumbnail,
  type ThumbnailRecord,
  thumbnailRecord,
  unlessNotFound,
  unquote,
} from './object-store';

// The gallery's view of the bucket: every object under uploads/ is one image, whoever wrote it (the
// frontend, `aws s3 cp`, the console), and its thumbnail is whatever the makers left at
// thumbnails/<same path>. Folder placeholders (keys ending in `/`, as the S3 console creates) are not images.

/** Where an image's thumbnail stands. */
export type ThumbnailState = 'pending' | 'ready' | 'failed';

export interface ImageEntry {
  /** imageIdFor(key). */
  readonly id: string;
  readonly key: string;
  /** The key's last segment: the uploaded file's name. */
  readonly name: string;
  /** Bytes. */
  readonly bytes: number;
  /** ISO 8601, from the store's Last-Modified. */
  readonly uploadedAt: string | undefined;
  readonly thumbnail: ThumbnailState;
  /** When failed: why (a RejectionReason, or why the key itself gets no thumbnail) and how to say it. */
  readonly reason?: RejectionReason | KeySkipReason;
  readonly message?: string;
}

export interface ImagePage {
  readonly items: ImageEntry[];
  /** The cursor of the next page; absent on the last. */
  readonly nextCursor?: string;
}

/** A thumbnail as GetObject returned it, or why there is none. */
export type ThumbnailRead =
  | {
      readonly state: 'ready';
      readonly body: Readable;
      readonly contentType: string;
      readonly bytes?: number;
    }
  | { readonly state: 'pending' }
  | { readonly state: 'failed'; readonly reason: RejectionReason; readonly message: string }
  /** No image at the source key: nothing will ever make its thumbnail. */
  | { readonly state: 'no-image' };

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/** S3 lists keys in the order of their UTF-8 bytes, which is not JavaScript's string order. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const isImageKey = (key: string | undefined): key is string => Boolean(key) && !key!.endsWith('/');

/**
 * One page of images, in key order (S3's), `limit` at most, after the image whose id is `cursor`.
 * The frontend names its uploads so that key order is newest first. Costs one listing of uploads/,
 * one of thumbnails/ over the same range, and one HeadObject per failure marker on the page.
 * Throws InvalidCursorError for a cursor that is not an image id; store errors are thrown.
 */
export async function listImages(
  s3: S3Client,
  bucket: string,
  { limit, cursor }: { limit: number; cursor?: string },
): Promise<ImagePage> {
  const after = cursor === undefined ? undefined : keyOfImageId(cursor);
  if (cursor !== undefined && after === undefined) {
    throw new InvalidCursorError('cursor: is not a cursor returned by this API');
  }
  const uploads = await listRange(s3, bucket, UPLOADS_PREFIX, after, { count: limit + 1 });
  const page = uploads.slice(0, limit);
  const last = page.at(-1)?.Key;
  const thumbnails = new Map<string, _Object>();
  if (last !== undefined) {
    const pathOf = (key: string, prefix: string) => key.slice(prefix.length);
    const listed = await listRange(
      s3,
      bucket,
      THUMBNAILS_PREFIX,
      after && THUMBNAILS_PREFIX + pathOf(after, UPLOADS_PREFIX),
      { through: THUMBNAILS_PREFIX + pathOf(last, UPLOADS_PREFIX), count: limit },
    );
    for (const object of listed) thumbnails.set(pathOf(object.Key!, THUMBNAILS_PREFIX), object);
  }
  const items = await Promise.all(
    page.map((upload) =>
      entryFor(s3, bucket, upload, thumbnails.get(upload.Key!.slice(UPLOADS_PREFIX.length))),
    ),
  );
  return uploads.length > limit && last !== undefined ? { items, nextCursor: imageIdFor(last) } : { items };
}

/**
 * Keys under `prefix` after `startAfter`, in order, folder placeholders left out: `count` of them, or,
 * with `through`, every one up to that key (inclusive), listed `count` at a time.
 */
async function listRange(
  s3: S3Client,
  bucket: string,
  prefix: string,
  startAfter: string | undefined,
  { count, through }: { count: number; through?: string },
): Promise<_Object[]> {
  const found: _Object[] = [];
  let token: string | undefined;
  for (;;) {
    const listing = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        StartAfter: token ? undefined : startAfter,
        ContinuationToken: token,
        MaxKeys: through === undefined ? count - found.length : count,
      }),
    );
    const contents = listing.Contents ?? [];
    found.push(...contents.filter((object) => isImageKey(object.Key)));
    const lastKey = contents.at(-1)?.Key;
    token = listing.IsTruncated ? listing.NextContinuationToken : undefined;
    const done =
      through === undefined
        ? found.length >= count
        : lastKey === undefined || compareKeys(lastKey, through) >= 0;
    if (!token || done) break;
  }
  return through === undefined ? found : found.filter((object) => compareKeys(object.Key!, through) <= 0);
}

async function entryFor(
  s3: S3Client,
  bucket: string,
  upload: _Object,
  thumbnail: _Object | undefined,
): Promise<ImageEntry> {
  const key = upload.Key!;
  const base = {
    id: imageIdFor(key),
    key,
    name: key.slice(key.lastIndexOf('/') + 1),
    bytes: upload.Size ?? 0,
    uploadedAt: upload.LastModified?.toISOString(),
  };
  const mapping = thumbnailKeyFor(key);
  if (mapping.skip) {
    return {
      ...base,
      thumbnail: 'failed',
      reason: mapping.skip,
      message: 'this key gets no thumbnail: it has empty, "." or ".." path segments',
    };
  }
  if (!thumbnail) return { ...base, thumbnail: 'pending' };
  // Thumbnails are never empty; failure markers always are.
  if ((thumbnail.Size ?? 0) > 0) return { ...base, thumbnail: 'ready' };
  const marker = await headThumbnail(s3, bucket, mapping.thumbnailKey);
  // A marker of another version: the upload was replaced, and its own event is on its way.
  if (!marker?.failure || marker.sourceETag !== unquote(upload.ETag))
    return { ...base, thumbnail: 'pending' };
  return { ...base, thumbnail: 'failed', ...marker.failure };
}

/**
 * The thumbnail of an image, in one GetObject when it is there; when it is not, or is a failure
 * marker, the source's current version is read too (HeadObject): no source is `no-image`, and a
 * marker of another version (the upload was replaced) reads as pending. Store errors are thrown.
 */
export async function readThumbnail(s3: S3Client, bucket: string, sourceKey: string): Promise<ThumbnailRead> {
  const mapping = thumbnailKeyFor(sourceKey);
  if (mapping.skip) throw new RangeError(`${sourceKey} has no thumbnail key (${mapping.skip})`);
  const object = await unlessNotFound(
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: mapping.thumbnailKey })),
  );
  let marker: ThumbnailRecord | undefined;
  if (object) {
    if (!(object.Body instanceof Readable))
      throw new TypeError('expected a Node.js stream as the object body');
    const record = thumbnailRecord(object.ETag, object.Metadata);
    if (!record.failure) {
      return {
        state: 'ready',
        body: object.Body,
        contentType: object.ContentType ?? 'application/octet-stream',
        bytes: object.ContentLength,
      };
    }
    object.Body.destroy();
    marker = record;
  }
  // No thumbnail yet, or a failure marker: the image's current version, if there is one, decides.
  const source = await currentETag(s3, bucket, sourceKey);
  if (source === undefined) return { state: 'no-image' };
  return marker?.failure && source === marker.sourceETag
    ? { state: 'failed', ...marker.failure }
    : { state: 'pending' };
}
