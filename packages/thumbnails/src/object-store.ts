import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ImageRejectedError, type RejectionReason } from './errors';
import type { Thumbnail } from './resize';

// What the makers store at thumbnails/<path>: the thumbnail, or, when the source can never have
// one, an empty object whose user metadata says why (a failure marker). Either names the source
// version (ETag) it was made from, so a redelivered event is recognised and a replaced source is not.

/** User metadata key naming the source ETag a thumbnail (or failure marker) was made from. */
export const SOURCE_ETAG_METADATA_KEY = 'source-etag';
/** User metadata keys of a failure marker: the RejectionReason and its message. */
export const FAILURE_REASON_METADATA_KEY = 'thumbnail-failure';
export const FAILURE_MESSAGE_METADATA_KEY = 'thumbnail-failure-message';

const REJECTION_REASONS: readonly RejectionReason[] = [
  'too-large',
  'too-many-pixels',
  'unsupported-format',
  'corrupt-image',
];

/** Why a source will have no thumbnail. */
export interface ThumbnailFailure {
  readonly reason: RejectionReason;
  readonly message: string;
}

/** What a maker writes at a thumbnail key. */
export type ThumbnailContent = { readonly thumbnail: Thumbnail } | { readonly failure: ThumbnailFailure };

/** A source object as GetObject returns it: headers read, body not yet. */
export interface SourceObject {
  /** Without the quotes S3 puts around it; empty when the store sent none. */
  readonly etag: string;
  readonly contentLength: number | undefined;
  /** User metadata (`x-amz-meta-*` without the prefix), where the uploader stores `traceparent`. */
  readonly metadata: Record<string, string>;
  readonly body: Readable;
}

/** The object at a thumbnail key, from its headers. */
export interface ThumbnailRecord {
  readonly etag: string;
  readonly sourceETag: string | undefined;
  /** Set when the object is a failure marker rather than a thumbnail. */
  readonly failure: ThumbnailFailure | undefined;
}

/** How a write must relate to what is at the key (S3 conditional writes). */
export type WriteCondition = { readonly ifNoneMatch: '*' } | { readonly ifMatch: string } | undefined;

/**
 * GetObject: headers and an unread body stream, in one request. Returns undefined when the object
 * (or its bucket) does not exist; other store errors are thrown.
 */
export async function openSource(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<SourceObject | undefined> {
  const object = await unlessNotFound(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
  if (!object) return undefined;
  if (!(object.Body instanceof Readable)) throw new TypeError('expected a Node.js stream as the object body');
  return {
    etag: unquote(object.ETag),
    contentLength: object.ContentLength,
    metadata: object.Metadata ?? {},
    body: object.Body,
  };
}

/** The source's current ETag (HeadObject); undefined when it is gone. */
export async function currentETag(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  const head = await unlessNotFound(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  return head && unquote(head.ETag);
}

/** What is at a thumbnail key (HeadObject); undefined when nothing is. */
export async function headThumbnail(
  s3: S3Client,
  bucket: string,
  thumbnailKey: string,
): Promise<ThumbnailRecord | undefined> {
  const head = await unlessNotFound(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: thumbnailKey })));
  return head && thumbnailRecord(head.ETag, head.Metadata);
}

/** Reads a thumbnail key's headers: which source version it stands for, and whether it is a failure marker. */
export function thumbnailRecord(
  etag: string | undefined,
  metadata: Record<string, string> = {},
): ThumbnailRecord {
  const reason = metadata[FAILURE_REASON_METADATA_KEY] as RejectionReason | undefined;
  const failure =
    reason && REJECTION_REASONS.includes(reason)
      ? { reason, message: metadata[FAILURE_MESSAGE_METADATA_KEY] ?? reason }
      : undefined;
  return { etag: unquote(etag), sourceETag: metadata[SOURCE_ETAG_METADATA_KEY], failure };
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

/**
 * Writes a thumbnail or a failure marker, under a condition: `If-None-Match: *` (only if nothing is
 * there) or `If-Match: <etag>` (only if that very object is), as S3 has supported on PutObject since
 * 2024 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html). Returns false
 * when the store refused the condition (412 Precondition Failed, or 409 ConditionalRequestConflict
 * when another conditional write to the key was under way); a store that ignores the headers writes.
 */
export async function putThumbnail(
  s3: S3Client,
  bucket: string,
  thumbnailKey: string,
  content: ThumbnailContent,
  sourceETag: string,
  condition: WriteCondition,
): Promise<boolean> {
  const metadata: Record<string, string> = { [SOURCE_ETAG_METADATA_KEY]: sourceETag };
  if ('failure' in content) {
    metadata[FAILURE_REASON_METADATA_KEY] = content.failure.reason;
    metadata[FAILURE_MESSAGE_METADATA_KEY] = headerSafe(content.failure.message);
  }
  const body = 'thumbnail' in content ? content.thumbnail.data : Buffer.alloc(0);
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: thumbnailKey,
        Body: body,
        // Said outright: the SDK sets no Content-Length for an empty body, and then warns on stderr.
        ContentLength: body.length,
        ContentType: 'thumbnail' in content ? content.thumbnail.contentType : 'application/octet-stream',
        Metadata: metadata,
        IfNoneMatch: condition && 'ifNoneMatch' in condition ? condition.ifNoneMatch : undefined,
        IfMatch: condition && 'ifMatch' in condition ? `"${condition.ifMatch}"` : undefined,
      }),
    );
    return true;
  } catch (error) {
    const status = httpStatusCode(error);
    // 404: If-Match on a key that is gone by now.
    if (condition && (status === 412 || status === 409 || (status === 404 && 'ifMatch' in condition)))
      return false;
    throw error;
  }
}

/** User metadata travels as HTTP headers: printable ASCII, and S3 allows 2 KB of it in all. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 512);
}

/** What an S3 request answers, or undefined where it answers 404 (no such key); other errors are thrown. */
export async function unlessNotFound<T>(request: Promise<T>): Promise<T | undefined> {
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

/** An ETag without the quotes S3 puts around it. */
export function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/"/g, '');
}
