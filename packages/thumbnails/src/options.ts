export interface ThumbnailOptions {
  /** Thumbnail width in pixels. Default 200. */
  readonly width?: number;
  /** Thumbnail height in pixels. Default 200. */
  readonly height?: number;
  /** Largest source object, in bytes, that is downloaded. Default 20 MiB. */
  readonly maxInputBytes?: number;
  /** Largest source image, in pixels (width x height), that is decoded. Default 50 megapixels. */
  readonly limitInputPixels?: number;
  /**
   * Whether the object store honours `If-None-Match` / `If-Match` on PutObject (S3 does, and so does
   * the local stack). Default true: get + conditional put per image. False for a store that ignores
   * them: the thumbnail key is read before the work instead, which still makes a redelivered event a
   * no-op but cannot stop two makers racing on one upload from both writing (the same bytes).
   */
  readonly conditionalWrites?: boolean;
}

export type ResolvedThumbnailOptions = Required<ThumbnailOptions>;

export const DEFAULT_THUMBNAIL_OPTIONS: ResolvedThumbnailOptions = Object.freeze({
  width: 200,
  height: 200,
  maxInputBytes: 20 * 1024 * 1024,
  limitInputPixels: 50_000_000,
  conditionalWrites: true,
});

const SIZES = ['width', 'height', 'maxInputBytes', 'limitInputPixels'] as const;

/** Fills in defaults; throws RangeError on a size that is not a positive integer, so bad config fails at start. */
export function resolveThumbnailOptions(options: ThumbnailOptions = {}): ResolvedThumbnailOptions {
  const resolved = { ...DEFAULT_THUMBNAIL_OPTIONS, ...withoutUndefined(options) };
  for (const name of SIZES) {
    const value = resolved[name];
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`thumbnail option ${name} must be a positive integer, got ${value}`);
    }
  }
  if (typeof resolved.conditionalWrites !== 'boolean') {
    throw new RangeError(
      `thumbnail option conditionalWrites must be a boolean, got ${resolved.conditionalWrites}`,
    );
  }
  return resolved;
}

function withoutUndefined(options: ThumbnailOptions): ThumbnailOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
