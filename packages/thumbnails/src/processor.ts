import type { S3Client } from '@aws-sdk/client-s3';
import { ImageRejectedError, TransientError, type TransientFailure } from './errors';
import { decodeEventKey, thumbnailKeyFor } from './keys';
import { isObjectCreated, parseNotification, type NotificationRecord } from './notification';
import {
  currentETag,
  headThumbnail,
  openSource,
  putThumbnail,
  readLimited,
  type SourceObject,
  type ThumbnailContent,
  type ThumbnailRecord,
  type WriteCondition,
} from './object-store';
import { resolveThumbnailOptions, type ResolvedThumbnailOptions, type ThumbnailOptions } from './options';
import { createThumbnail } from './resize';
import type { RecordResult } from './results';
import { withThumbnailSpan } from './tracing';

/** Conditional writes refused this many times in a row mean a key in constant flux: retry the event later. */
const MAX_WRITE_ATTEMPTS = 3;

interface Target {
  readonly bucket: string;
  readonly key: string;
  readonly thumbnailKey: string;
}

/**
 * Turns S3 event notifications into thumbnails. Build one per process (or Lambda container) and reuse it.
 * The S3 client carries the endpoint, credentials, retries and timeouts.
 *
 * Per record, with conditional writes (the default): GetObject on the source (its headers carry the
 * ETag and the upload's trace context), the resize, and PutObject with `If-None-Match: *`. Only when
 * that is refused (a thumbnail is there) is the existing one read: made from the same source version
 * means `already-exists` (a redelivered event, or another maker won the race); from another version,
 * it is replaced with `If-Match` if this version is still the current one.
 */
export class ThumbnailProcessor {
  readonly options: ResolvedThumbnailOptions;

  constructor(
    private readonly s3: S3Client,
    options?: ThumbnailOptions,
  ) {
    this.options = resolveThumbnailOptions(options);
  }

  /**
   * Processes every record of a notification, one at a time (bounded memory), and returns one result per record.
   * Throws InvalidNotificationError when the body is not a notification (nothing is processed), and
   * TransientError when any record failed transiently, after all the others were attempted.
   */
  async process(notification: unknown): Promise<RecordResult[]> {
    const records = parseNotification(notification);
    const results: RecordResult[] = [];
    const failures: TransientFailure[] = [];
    for (const record of records) {
      try {
        results.push(await this.processRecord(record));
      } catch (error) {
        failures.push({ bucket: record.bucket, key: record.key, error });
      }
    }
    if (failures.length > 0) throw new TransientError(failures, results);
    return results;
  }

  private async processRecord({
    eventName,
    bucket,
    key: encodedKey,
  }: NotificationRecord): Promise<RecordResult> {
    if (!isObjectCreated(eventName)) {
      return { outcome: 'skipped', bucket, key: encodedKey, reason: 'not-object-created' };
    }
    const key = decodeEventKey(encodedKey);
    if (key === undefined) {
      return { outcome: 'skipped', bucket, key: encodedKey, reason: 'invalid-key-encoding' };
    }
    const mapping = thumbnailKeyFor(key);
    if (mapping.skip) return { outcome: 'skipped', bucket, key, reason: mapping.skip };
    const target = { bucket, key, thumbnailKey: mapping.thumbnailKey };

    // Read first: the upload's trace context lives in the object's metadata and parents the span.
    const source = await openSource(this.s3, bucket, key);
    if (!source) return { outcome: 'skipped', bucket, key, reason: 'source-missing' };
    try {
      return await withThumbnailSpan(
        { ...target, sourceBytes: source.contentLength },
        source.metadata,
        async () => {
          if (!this.options.conditionalWrites) {
            // Without conditional writes, looking before the work is what makes a redelivery a no-op.
            const existing = await headThumbnail(this.s3, bucket, target.thumbnailKey);
            if (existing && sameVersion(existing.sourceETag, source.etag))
              return existingResult(target, existing);
          }
          const content = await this.render(source);
          return this.store(target, source.etag, content);
        },
      );
    } finally {
      // Unread when the work stopped early; a body left open would hold its connection.
      source.body.destroy();
    }
  }

  /** The thumbnail, or the permanent reason there will be none. Store errors are thrown. */
  private async render(source: SourceObject): Promise<ThumbnailContent> {
    const { maxInputBytes } = this.options;
    try {
      if (source.contentLength !== undefined && source.contentLength > maxInputBytes) {
        throw new ImageRejectedError(
          'too-large',
          `object is ${source.contentLength} bytes, more than ${maxInputBytes}`,
        );
      }
      const data = await readLimited(source.body, maxInputBytes);
      return { thumbnail: await createThumbnail(data, this.options) };
    } catch (error) {
      if (!(error instanceof ImageRejectedError)) throw error;
      return { failure: { reason: error.reason, message: error.message } };
    }
  }

  private async store(target: Target, sourceETag: string, content: ThumbnailContent): Promise<RecordResult> {
    const { bucket, key, thumbnailKey } = target;
    if (!this.options.conditionalWrites) {
      await putThumbnail(this.s3, bucket, thumbnailKey, content, sourceETag, undefined);
      return writtenResult(target, content);
    }
    let condition: WriteCondition = { ifNoneMatch: '*' };
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
      if (await putThumbnail(this.s3, bucket, thumbnailKey, content, sourceETag, condition)) {
        return writtenResult(target, content);
      }
      const existing = await headThumbnail(this.s3, bucket, thumbnailKey);
      if (!existing) {
        // Deleted between the refusal and the look: try to be first again.
        condition = { ifNoneMatch: '*' };
        continue;
      }
      if (sameVersion(existing.sourceETag, sourceETag)) return existingResult(target, existing);
      // Another version's thumbnail: replace it only while this version is the source's current one.
      if (!sameVersion(await currentETag(this.s3, bucket, key), sourceETag)) {
        return { outcome: 'skipped', bucket, key, reason: 'source-replaced' };
      }
      condition = { ifMatch: existing.etag };
    }
    throw new Error(`${thumbnailKey} changed under every one of ${MAX_WRITE_ATTEMPTS} conditional writes`);
  }
}

/** Two ETags of the same version; an ETag the store did not send matches nothing. */
function sameVersion(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && a !== '' && a === b;
}

function writtenResult({ bucket, key, thumbnailKey }: Target, content: ThumbnailContent): RecordResult {
  if ('failure' in content) return { outcome: 'failed', bucket, key, thumbnailKey, ...content.failure };
  const { contentType, data } = content.thumbnail;
  return { outcome: 'created', bucket, key, thumbnailKey, contentType, bytes: data.length };
}

function existingResult({ bucket, key, thumbnailKey }: Target, existing: ThumbnailRecord): RecordResult {
  if (existing.failure) return { outcome: 'failed', bucket, key, thumbnailKey, ...existing.failure };
  return { outcome: 'already-exists', bucket, key, thumbnailKey };
}
