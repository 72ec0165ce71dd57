import * as z from 'zod/mini';
import { DEFAULT_THUMBNAIL_OPTIONS, type ThumbnailOptions } from './options';

// zod's tree-shakable build: the Lambda bundle takes about 20 KiB of it instead of 450.
const positive = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.positive()), fallback);

/**
 * The thumbnail makers' environment, one schema for both shells: the thumbnailer spreads it into its
 * service schema, the Lambda imageProcessor reads it alone. Validate it with service-kit's readConfig,
 * which names every variable that is wrong.
 */
export const thumbnailEnv = {
  THUMBNAIL_WIDTH: positive(DEFAULT_THUMBNAIL_OPTIONS.width),
  THUMBNAIL_HEIGHT: positive(DEFAULT_THUMBNAIL_OPTIONS.height),
  /** Bytes. */
  MAX_INPUT_BYTES: positive(DEFAULT_THUMBNAIL_OPTIONS.maxInputBytes),
  /** Pixels (width x height). */
  MAX_INPUT_PIXELS: positive(DEFAULT_THUMBNAIL_OPTIONS.limitInputPixels),
  /** `false` for an object store that ignores If-None-Match / If-Match on PutObject (see ThumbnailOptions). */
  S3_CONDITIONAL_WRITES: z._default(
    z.stringbool({ error: 'must be true or false' }),
    DEFAULT_THUMBNAIL_OPTIONS.conditionalWrites,
  ),
};

export const thumbnailEnvSchema = z.object(thumbnailEnv);

export type ThumbnailEnv = z.infer<typeof thumbnailEnvSchema>;

/** The processor's options from a validated environment. */
export function thumbnailOptionsFrom(env: ThumbnailEnv): ThumbnailOptions {
  return {
    width: env.THUMBNAIL_WIDTH,
    height: env.THUMBNAIL_HEIGHT,
    maxInputBytes: env.MAX_INPUT_BYTES,
    limitInputPixels: env.MAX_INPUT_PIXELS,
    conditionalWrites: env.S3_CONDITIONAL_WRITES,
  };
}
