import sharp from 'sharp';
import { ImageRejectedError } from './errors';
import { CONTENT_TYPES, isThumbnailFormat, type ThumbnailFormat } from './formats';
import { oneLine, readImageHeader } from './header';
import { DEFAULT_THUMBNAIL_OPTIONS, type ThumbnailOptions } from './options';

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
 * kept when sharp can write it, else PNG. Throws ImageRejectedError for input that is not a supported image
 * (readImageHeader), declares more than `limitInputPixels` pixels (from the header, before anything is
 * decoded), or does not decode completely.
 *
 * Damaged images: a thumbnail is made only from an image that decodes without error or warning (sharp's
 * `failOn: 'warning'`, its strictest level). A truncated JPEG, which a browser shows with its bottom
 * missing, is `corrupt-image` with sharp's reason ("premature end of JPEG image"): a thumbnail of the part
 * that decodes would look like a success while the stored file is damaged, and the uploader is better told.
 */
export async function createThumbnail(image: Buffer, options: ResizeOptions = {}): Promise<Thumbnail> {
  const {
    width = DEFAULT_THUMBNAIL_OPTIONS.width,
    height = DEFAULT_THUMBNAIL_OPTIONS.height,
    limitInputPixels = DEFAULT_THUMBNAIL_OPTIONS.limitInputPixels,
  } = options;
  const header = await readImageHeader(image, limitInputPixels);
  const format = isThumbnailFormat(header.format) ? header.format : 'png';
  try {
    const { data, info } = await sharp(image, { limitInputPixels, autoOrient: true, failOn: 'warning' })
      .resize(width, height, { fit: 'cover' })
      .toFormat(format)
      .toBuffer({ resolveWithObject: true });
    return { data, format, contentType: CONTENT_TYPES[format], width: info.width, height: info.height };
  } catch (error) {
    throw new ImageRejectedError(
      'corrupt-image',
      `image could not be decoded: ${oneLine((error as Error).message)}`,
    );
  }
}
