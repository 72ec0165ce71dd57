/**
 * The formats uploads may have and thumbnails keep, with their content types: sharp reads and writes
 * each of them. Other formats sharp reads (SVG) get PNG thumbnails.
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

/** Whether a format (as readImageHeader names it) is one of CONTENT_TYPES. */
export function isThumbnailFormat(format: string): format is ThumbnailFormat {
  return Object.hasOwn(CONTENT_TYPES, format);
}

/** `jpeg, png, webp, gif, avif, tiff`, for messages. */
export const SUPPORTED_FORMATS = Object.keys(CONTENT_TYPES).join(', ');
