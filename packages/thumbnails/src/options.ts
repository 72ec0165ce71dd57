export interface ThumbnailOptions {
  /** Thumbnail width in pixels. Default 200. */
  readonly width?: number;
  /** Thumbnail height in pixels. Default 200. */
  readonly height?: number;
  /** Largest source object, in bytes, that is downloaded. Default 20 MiB. */
  readonly maxInputBytes?: number;
  /** Largest source image, in pixels (width x height), that is decoded. Default 50 megapixels. */
  readonly limitInputPixels?: number;
}

export type ResolvedThumbnailOptions = Required<ThumbnailOptions>;

export const DEFAULT_THUMBNAIL_OPTIONS: ResolvedThumbnailOptions = Object.freeze({
  width: 200,
  height: 200,
  maxInputBytes: 20 * 1024 * 1024,
  limitInputPixels: 50_000_000,
});

/** Fills in defaults; throws RangeError on a value that is not a positive integer, so bad config fails at start. */
export function resolveThumbnailOptions(options: ThumbnailOptions = {}): ResolvedThumbnailOptions {
  const resolved = { ...DEFAULT_THUMBNAIL_OPTIONS, ...withoutUndefined(options) };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`thumbnail option ${name} must be a positive integer, got ${value}`);
    }
  }
  return resolved;
}

function withoutUndefined(options: ThumbnailOptions): ThumbnailOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
