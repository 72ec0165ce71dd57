import path from 'node:path';
import multer from 'multer';
import { HttpError } from '@twin/service-kit';
import {
  CONTENT_TYPES,
  ImageRejectedError,
  isThumbnailFormat,
  readImageHeader,
  SUPPORTED_FORMATS,
} from '@twin/thumbnails';

const EXTENSIONS: Record<string, string> = {
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  avif: 'avif',
  tiff: 'tif',
};
/**
 * A name is one file name on the object store's disk: MinIO and s3rver keep each key segment as a
 * file or folder name (at most 255 bytes), and s3rver adds a suffix of up to 22 bytes.
 */
const MAX_NAME_BYTES = 200;

export interface UploadLimits {
  maxBytes: number;
  maxPixels: number;
}

export interface CheckedImage {
  contentType: string;
  format: string;
  width: number;
  height: number;
}

/**
 * Multipart parsing into memory with hard limits: one file field named `file`, no other files,
 * a few small text fields at most. File names are read as UTF-8, as browsers and curl send them.
 */
export function uploadParser({ maxBytes }: UploadLimits) {
  return multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBytes, files: 1, fields: 5, fieldSize: 1024, parts: 6, headerPairs: 50 },
    defParamCharset: 'utf8',
  }).single('file');
}

/**
 * The multipart parser's errors, as the client should see them: a limit it hit, or a body it could
 * not parse (busboy's plain errors: "Malformed part header", "Unexpected end of form", no boundary).
 */
export function uploadError(err: unknown, maxBytes: number): HttpError {
  if (!(err instanceof multer.MulterError))
    return new HttpError(400, 'upload rejected: malformed multipart body');
  if (err.code === 'LIMIT_FILE_SIZE')
    return new HttpError(413, `file is larger than ${maxBytes} bytes`, { field: 'file' });
  // A file in another field, or more than one file.
  if (err.code === 'LIMIT_UNEXPECTED_FILE' || err.code === 'LIMIT_FILE_COUNT')
    return new HttpError(400, `file: send one image in the field "file"`, { field: 'file' });
  return new HttpError(400, `upload rejected: ${err.message}`);
}

/** 415 for an image in a format uploads do not take (SVG, HEIC...). */
const unsupported = () =>
  new HttpError(415, `file: not a supported image (${SUPPORTED_FORMATS})`, { field: 'file' });

/**
 * The image type comes from the bytes, never from the name or the declared content type, by the same
 * header check the thumbnail makers use (readImageHeader: the header only, nothing decoded); an image
 * declaring more pixels than allowed is refused (422) before decoding. Width and height are as the
 * image is displayed (EXIF orientation applied). Damage past the header shows later, as a failed thumbnail.
 */
export async function checkImage(data: Buffer, { maxPixels }: UploadLimits): Promise<CheckedImage> {
  let header;
  try {
    header = await readImageHeader(data, maxPixels);
  } catch (err) {
    if (!(err instanceof ImageRejectedError)) throw err;
    // A format uploads do not take is refused as such, whatever else is wrong with it.
    if (err.format !== undefined && !isThumbnailFormat(err.format)) throw unsupported();
    throw new HttpError(err.reason === 'too-many-pixels' ? 422 : 415, `file: ${err.message}`, {
      field: 'file',
    });
  }
  if (!isThumbnailFormat(header.format)) throw unsupported();
  return {
    contentType: CONTENT_TYPES[header.format],
    format: header.format,
    width: header.width,
    height: header.height,
  };
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, cut between characters. */
function truncateUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const character of text) {
    bytes += Buffer.byteLength(character);
    if (bytes > maxBytes) break;
    end += character.length;
  }
  return text.slice(0, end);
}

/**
 * A safe object name from whatever the client called the file: the last path segment only (no
 * `../`), no control characters or backslashes, bounded length in bytes (never half a character),
 * or `image.<ext>` when nothing is left.
 */
export function safeFileName(original: string | undefined, format: string): string {
  const base = path.posix.basename((original ?? '').replace(/\\/g, '/'));
  const cleaned = base
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .trim()
    .replace(/^\.+/, '');
  const name = truncateUtf8(cleaned, MAX_NAME_BYTES).trim();
  return name && name !== '.' ? name : `image.${EXTENSIONS[format] ?? format}`;
}
