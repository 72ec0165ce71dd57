import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { HttpError } from '@twin/service-kit';
import { THUMBNAILS_PREFIX, traceMetadata, UPLOADS_PREFIX } from '@twin/thumbnails';
import type { StoredImage } from '../web/api-types';

export interface ImageObject {
  body: Readable;
  contentType: string;
  bytes?: number;
}

/** How many uploads the gallery lists; one listing call's worth. */
const LIST_LIMIT = 1000;

/** Any failure of the object store is an outage for the caller: 503, and nothing half-done. */
async function guard<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(503, 'object store is unavailable');
  }
}

/** `<prefix><id>/<name>` -> id and name. */
function splitKey(prefix: string, key: string): { id: string; name: string } | undefined {
  const rest = key.slice(prefix.length);
  const slash = rest.indexOf('/');
  return slash > 0 ? { id: rest.slice(0, slash), name: rest.slice(slash + 1) } : undefined;
}

/** Uploads and their thumbnails in one bucket, laid out as `uploads/<id>/<name>` and `thumbnails/<id>/<name>`. */
export class ImageStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  /** Stores an upload in one PutObject, so a failure leaves nothing behind. */
  async put(id: string, name: string, data: Buffer, contentType: string): Promise<string> {
    const key = `${UPLOADS_PREFIX}${id}/${name}`;
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

  async list(): Promise<StoredImage[]> {
    const [uploads, thumbnails] = await Promise.all([
      this.listKeys(UPLOADS_PREFIX),
      this.listKeys(THUMBNAILS_PREFIX),
    ]);
    const ready = new Set(thumbnails.map((object) => splitKey(THUMBNAILS_PREFIX, object.Key ?? '')?.id));
    const images: StoredImage[] = [];
    for (const object of uploads) {
      const parts = splitKey(UPLOADS_PREFIX, object.Key ?? '');
      if (!parts) continue;
      images.push({
        ...parts,
        bytes: object.Size ?? 0,
        uploadedAt: object.LastModified?.toISOString(),
        thumbnail: ready.has(parts.id) ? 'ready' : 'pending',
      });
    }
    return images.sort((a, b) => (b.uploadedAt ?? '').localeCompare(a.uploadedAt ?? ''));
  }

  /** The upload or the thumbnail of an image; undefined while it does not exist. */
  async open(id: string, which: 'upload' | 'thumbnail'): Promise<ImageObject | undefined> {
    const prefix = `${which === 'upload' ? UPLOADS_PREFIX : THUMBNAILS_PREFIX}${id}/`;
    const [object] = await this.listKeys(prefix, 1);
    if (!object?.Key) return undefined;
    const key = object.Key;
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
        if (err instanceof NoSuchKey) return undefined;
        throw err;
      }
    });
  }

  private async listKeys(prefix: string, limit = LIST_LIMIT) {
    const { Contents = [] } = await guard(() =>
      this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: limit })),
    );
    return Contents;
  }
}
