import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { HttpError } from '@twin/service-kit';
import {
  InvalidCursorError,
  type ImagePage,
  listImages,
  readThumbnail,
  type ThumbnailRead,
  traceMetadata,
  UPLOADS_PREFIX,
} from '@twin/thumbnails';

export interface ImageObject {
  body: Readable;
  contentType: string;
  /** Bytes, when the store said. */
  bytes?: number;
}

/** Any failure of the object store is an outage for the caller: 503, and nothing half-done. */
async function guard<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (err instanceof InvalidCursorError) throw new HttpError(400, err.message, { field: 'cursor' });
    throw new HttpError(503, 'object store is unavailable');
  }
}

/** Milliseconds after the epoch that no upload folder name reaches (the year 2286). */
const FOLDER_CLOCK_END = 10 ** 13;

/**
 * A folder name of its own for each upload, `<13 digits>-<16 hex digits>`: the digits count down with
 * time, so S3's key order (which is the gallery's) lists the newest upload first, and the random part
 * keeps two uploads in the same millisecond apart. E.g. `8235409871234-3f9c0a7d12e4b5c6`.
 */
export function uploadFolder(now = Date.now()): string {
  return `${String(FOLDER_CLOCK_END - 1 - now).padStart(13, '0')}-${randomBytes(8).toString('hex')}`;
}

/** Uploads and their thumbnails in one bucket: `uploads/<path>` and `thumbnails/<path>`. */
export class ImageStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  /** Stores an upload at `uploads/<uploadFolder()>/<name>` in one PutObject, so a failure leaves nothing behind. */
  async put(name: string, data: Buffer, contentType: string): Promise<string> {
    const key = `${UPLOADS_PREFIX}${uploadFolder()}/${name}`;
    await guard(() =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: data,
          ContentType: contentType,
          // The thumbnail's span continues this request's trace from here.
          Metadata: traceMetadata(),
        }),
      ),
    );
    return key;
  }

  /** One page of images (see listImages). A cursor that is not one gets a 400 naming it. */
  list(page: { limit: number; cursor?: string }): Promise<ImagePage> {
    return guard(() => listImages(this.s3, this.bucket, page));
  }

  /** The uploaded object; undefined when there is none. */
  async open(key: string): Promise<ImageObject | undefined> {
    return guard(async () => {
      try {
        const result = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        if (!(result.Body instanceof Readable)) throw new Error('expected a stream');
        return {
          body: result.Body,
          contentType: result.ContentType ?? 'application/octet-stream',
          bytes: result.ContentLength,
        };
      } catch (err) {
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
          return undefined;
        }
        throw err;
      }
    });
  }

  /** The thumbnail of the upload at `key`, or whether it is still pending or failed for good. */
  thumbnail(key: string): Promise<ThumbnailRead> {
    return guard(() => readThumbnail(this.s3, this.bucket, key));
  }
}
