import type { S3Client } from '@aws-sdk/client-s3';
import { ImageRejectedError, TransientError, type TransientFailure } from './errors';
import { decodeEventKey, thumbnailKeyFor } from './keys';
import { isObjectCreated, parseNotification, type NotificationRecord } from './notification';
import {
  downloadSource,
  headSource,
  putThumbnail,
  thumbnailSourceETag,
  type SourceHead,
} from './object-store';
import { resolveThumbnailOptions, type ResolvedThumbnailOptions, type ThumbnailOptions } from './options';
import { createThumbnail } from './resize';
import type { RecordResult } from './results';
import { withThumbnailSpan } from './tracing';

/**
 * Turns S3 event notifications into thumbnails. Build one per process (or Lambda container) and reuse it.
 * The S3 client carries the endpoint, credentials, retries and timeouts.
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
    const { thumbnailKey } = mapping;

    // Read first: the upload's trace context lives in the object's metadata and parents the span.
    const source = await headSource(this.s3, bucket, key);
    if (!source) return { outcome: 'skipped', bucket, key, reason: 'source-missing' };
    return withThumbnailSpan(
      { bucket, key, thumbnailKey, sourceBytes: source.contentLength },
      source.metadata,
      async () => {
        try {
          return await this.writeThumbnail(bucket, key, thumbnailKey, source);
        } catch (error) {
          if (!(error instanceof ImageRejectedError)) throw error;
          return {
            outcome: 'failed',
            bucket,
            key,
            thumbnailKey,
            reason: error.reason,
            message: error.message,
          };
        }
      },
    );
  }

  private async writeThumbnail(
    bucket: string,
    key: string,
    thumbnailKey: string,
    source: SourceHead,
  ): Promise<RecordResult> {
    const { maxInputBytes } = this.options;
    if (source.contentLength !== undefined && source.contentLength > maxInputBytes) {
      throw new ImageRejectedError(
        'too-large',
        `object is ${source.contentLength} bytes, more than ${maxInputBytes}`,
      );
    }
    if (source.etag && (await thumbnailSourceETag(this.s3, bucket, thumbnailKey)) === source.etag) {
      return { outcome: 'already-exists', bucket, key, thumbnailKey };
    }
    const download = await downloadSource(this.s3, bucket, key, maxInputBytes);
    if (!download) return { outcome: 'skipped', bucket, key, reason: 'source-missing' };
    const thumbnail = await createThumbnail(download.data, this.options);
    await putThumbnail(this.s3, bucket, thumbnailKey, thumbnail, download.etag);
    return {
      outcome: 'created',
      bucket,
      key,
      thumbnailKey,
      contentType: thumbnail.contentType,
      bytes: thumbnail.data.length,
    };
  }
}
