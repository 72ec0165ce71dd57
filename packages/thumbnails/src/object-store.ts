import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ImageRejectedError } from './errors';
import type { Thumbnail } from './resize';

/** User metadata key on a thumbnail naming the source version it was made from; makes redelivery a no-op. */
export const SOURCE_ETAG_METADATA_KEY = 'source-etag';

export interface SourceHead {
  /** Without the quotes S3 puts around it. */
  readonly etag: string;
  readonly contentLength: number | undefined;
  /** User metadata (`x-amz-meta-*` without the prefix), where the uploader stores `traceparent`. */
  readonly metadata: Record<string, string>;
}

/** Returns undefined when the object (or its bucket) does not exist. Other store errors are thrown. */
export async function headSource(s3: S3Client, bucket: string, key: string): Promise<SourceHead | undefined> {
  const head = await unlessNotFound(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  return (
    head && { etag: unquote(head.ETag), contentLength: head.ContentLength, metadata: head.Metadata ?? {} }
  );
}

/** The source ETag recorded on an existing thumbnail; undefined when there is no thumbnail yet. */
export async function thumbnailSourceETag(
  s3: S3Client,
  bucket: string,
  thumbnailKey: string,
): Promise<string | undefined> {
  const head = await unlessNotFound(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: thumbnailKey })));
  return head?.Metadata?.[SOURCE_ETAG_METADATA_KEY];
}

/**
 * Downloads an object, refusing (ImageRejectedError 'too-large') once it passes maxBytes whatever the
 * Content-Length said. Returns undefined when the object is gone.
 */
export async function downloadSource(
  s3: S3Client,
  bucket: string,
  key: string,
  maxBytes: number,
): Promise<{ data: Buffer; etag: string } | undefined> {
  const object = await unlessNotFound(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
  if (!object) return undefined;
  if (!(object.Body instanceof Readable)) throw new TypeError('expected a Node.js stream as the object body');
  return { data: await readLimited(object.Body, maxBytes), etag: unquote(object.ETag) };
}

/** Reads a stream into memory, destroying it and throwing 'too-large' as soon as it passes maxBytes. */
export async function readLimited(stream: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of stream) {
    length += chunk.length;
    // Leaving the loop by throwing destroys the stream, so the rest is never downloaded.
    if (length > maxBytes) {
      throw new ImageRejectedError('too-large', `object is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length);
}

export async function putThumbnail(
  s3: S3Client,
  bucket: string,
  thumbnailKey: string,
  thumbnail: Thumbnail,
  sourceETag: string,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: thumbnailKey,
      Body: thumbnail.data,
      ContentType: thumbnail.contentType,
      Metadata: { [SOURCE_ETAG_METADATA_KEY]: sourceETag },
    }),
  );
}

async function unlessNotFound<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (httpStatusCode(error) === 404) return undefined;
    throw error;
  }
}

// Read structurally, not with instanceof: the caller's S3Client may come from another copy of the SDK.
function httpStatusCode(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/"/g, '');
}
