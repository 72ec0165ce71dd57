import { crc32, deflateSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client, encodeEventKey } from '@twin/thumbnails';
import sharp from 'sharp';
import {
  S3RVER_CREDENTIALS,
  startObjectStore as startLocalObjectStore,
} from '../../../local/src/object-store';

export const BUCKET = 'images';

export interface ObjectStore {
  readonly s3: S3Client;
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * The local stack's s3rver on a free loopback port with the `images` bucket, following S3 where
 * s3rver does not (conditional writes, paged listings) unless `asPublished`; and a client configured
 * as DESIGN.md requires.
 */
export async function startObjectStore({ asPublished = false } = {}): Promise<ObjectStore> {
  const store = await startLocalObjectStore({ port: 0, bucket: BUCKET, asPublished });
  const s3 = s3Client(store.endpoint);
  let closed = false;
  return {
    s3,
    endpoint: store.endpoint,
    /** Stops the server (a store outage, for a test) and removes its files; again is a no-op. */
    async close() {
      if (closed) return;
      closed = true;
      s3.destroy();
      await store.close();
    },
  };
}

export function s3Client(endpoint: string, maxAttempts?: number): S3Client {
  return createS3Client({
    endpoint,
    region: 'us-east-1',
    credentials: S3RVER_CREDENTIALS,
    maxAttempts,
  });
}

export function s3Record(key: string, eventName = 'ObjectCreated:Put') {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName,
    s3: {
      s3SchemaVersion: '1.0',
      bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
      object: { key: encodeEventKey(key), size: 1, eTag: 'abc', sequencer: '0A1B2C3D4E5F678901' },
    },
  };
}

/** The notification S3 delivers to Lambda (and the local stack posts): `{Records: [...]}`. */
export function s3Event(...keys: string[]) {
  return { Records: keys.map((key) => s3Record(key)) };
}

/** MinIO's webhook body: event name, `bucket/decoded key`, and one S3-format record with its own names. */
export function minioEvent(key: string) {
  const eventName = 's3:ObjectCreated:Put';
  return {
    EventName: eventName,
    Key: `${BUCKET}/${key}`,
    Records: [{ ...s3Record(key, eventName), eventVersion: '2.0', eventSource: 'minio:s3', awsRegion: '' }],
  };
}

/** A real photo-like image: a gradient, so encoders do real work. */
export function sampleImage(format: 'jpeg' | 'png' | 'webp', width = 640, height = 480): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    pixels[i * 3] = (i % width) % 256;
    pixels[i * 3 + 1] = Math.floor(i / width) % 256;
    pixels[i * 3 + 2] = 128;
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .toFormat(format)
    .toBuffer();
}

/** The formats the README lists for uploads, each as sharp writes it. */
export const UPLOAD_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'avif', 'tiff'] as const;

/** A small picture in any format sharp writes (a gradient, as sampleImage), made now. */
export async function imageIn(
  format: (typeof UPLOAD_FORMATS)[number],
  width = 64,
  height = 48,
): Promise<Buffer> {
  return sharp(await sampleImage('png', width, height))
    .toFormat(format)
    .toBuffer();
}

/**
 * An AVIF file whose `ftyp` box names the HEIC brands instead: what a phone's HEIC photo looks like to
 * a reader of brands. (Prebuilt sharp cannot write HEVC, so no real HEIC can be made here.)
 */
export async function heicBrandedFile(): Promise<Buffer> {
  const file = Buffer.from(await imageIn('avif'));
  const ftypEnd = file.readUInt32BE(0);
  for (let at = 8; at + 4 <= ftypEnd; at += 4) {
    if (file.toString('latin1', at, at + 4) === 'avif') file.write('heic', at, 'latin1');
  }
  return file;
}

/** A JPEG stored width x height with EXIF Orientation 6: displayed rotated, height x width. */
export function rotatedPhoto(width = 400, height = 200): Promise<Buffer> {
  return sharp(Buffer.alloc(width * height * 3, 90), { raw: { width, height, channels: 3 } })
    .withMetadata({ orientation: 6 })
    .jpeg()
    .toBuffer();
}

/** The first `share` (0..1) of a width x height photo-like JPEG: its header intact, its pixels cut off. */
export async function truncatedJpeg(share = 0.6, width = 800, height = 600): Promise<Buffer> {
  const jpeg = await sampleImage('jpeg', width, height);
  return jpeg.subarray(0, Math.floor(jpeg.length * share));
}

/**
 * A valid PNG that declares width x height 1-bit grey pixels, all zero: a few tens of KB that would decode to
 * hundreds of MB (a decompression bomb).
 */
export function decompressionBombPng(width = 20_000, height = 20_000): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale; compression, filter and interlace bytes stay 0
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte + packed pixels
  const pixels = deflateSync(Buffer.alloc(rowBytes * height), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', pixels),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, checksum]);
}
