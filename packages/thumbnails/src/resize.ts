import sharp from 'sharp';
import { ImageRejectedError } from './errors';
import { DEFAULT_THUMBNAIL_OPTIONS, type ThumbnailOptions } from './options';

/**
 * Formats written back as themselves, with their content types; any other readable format (SVG)
 * becomes PNG. Uploaders accept exactly these.
 */
export const CONTENT_TYPES = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  tiff: 'image/tiff',
} as const;

export type ThumbnailFormat = keyof typeof CONTENT_TYPES;

export type ResizeOptions = Pick<ThumbnailOptions, 'width' | 'height' | 'limitInputPixels'>;

export interface Thumbnail {
  readonly data: Buffer;
  readonly format: ThumbnailFormat;
  readonly contentType: string;
  readonly width: number;
  readonly height: number;
}

/**
 * Resizes an image to width x height with fit `cover`: scaled to fill the box, then centre-cropped, so every
 * thumbnail has the exact size. EXIF orientation is applied and metadata is not copied. The source format is
 * kept when sharp can write it. Throws ImageRejectedError for input that is not a supported image, is corrupt,
 * or declares more than `limitInputPixels` pixels (checked from the header, before anything is decoded).
 */
export async function createThumbnail(image: Buffer, options: ResizeOptions = {}): Promise<Thumbnail> {
  const {
    width = DEFAULT_THUMBNAIL_OPTIONS.width,
    height = DEFAULT_THUMBNAIL_OPTIONS.height,
    limitInputPixels = DEFAULT_THUMBNAIL_OPTIONS.limitInputPixels,
  } = options;
  const format = outputFormat(await readHeader(image, limitInputPixels));
  try {
    const { data, info } = await sharp(image, { limitInputPixels, autoOrient: true })
      .resize(width, height, { fit: 'cover' })
      .toFormat(format)
      .toBuffer({ resolveWithObject: true });
    return { data, format, contentType: CONTENT_TYPES[format], width: info.width, height: info.height };
  } catch (error) {
    throw new ImageRejectedError('corrupt-image', `image could not be decoded: ${(error as Error).message}`);
  }
}

async function readHeader(image: Buffer, limitInputPixels: number): Promise<sharp.Metadata> {
  let metadata: sharp.Metadata;
  try {
    // Header only: sharp's own limit would refuse to report the size, so it is compared here instead.
    metadata = await sharp(image, { limitInputPixels: false }).metadata();
  } catch (error) {
    const message = (error as Error).message;
    throw /unsupported image format/i.test(message)
      ? new ImageRejectedError('unsupported-format', 'not an image format sharp reads')
      : new ImageRejectedError('corrupt-image', `image header could not be read: ${message}`);
  }
  if (metadata.width * metadata.height > limitInputPixels) {
    throw new ImageRejectedError(
      'too-many-pixels',
      `image is ${metadata.width}x${metadata.height}, more than ${limitInputPixels} pixels`,
    );
  }
  return metadata;
}

function outputFormat({ format, compression }: sharp.Metadata): ThumbnailFormat {
  // sharp reports AVIF and HEIC both as heif; prebuilt sharp decodes only the AV1 (AVIF) kind.
  if (format === 'heif') {
    if (compression === 'av1') return 'avif';
    throw new ImageRejectedError('unsupported-format', 'HEIC images are not supported');
  }
  return format in CONTENT_TYPES ? (format as ThumbnailFormat) : 'png';
}
