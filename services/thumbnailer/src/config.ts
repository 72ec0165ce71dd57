import { z } from 'zod';
import { DEFAULT_THUMBNAIL_OPTIONS } from '@twin/thumbnails';
import { readConfig, serviceEnv } from '@twin/service-kit';

const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const thumbnailerEnv = z.object({
  ...serviceEnv,
  PORT: serviceEnv.PORT.default(8082),
  AWS_REGION: z.string().min(1, 'is required (any value for MinIO or s3rver)'),
  /** Readiness checks this bucket; the events themselves name theirs. */
  BUCKET: z.string().min(3).default('images'),
  THUMBNAIL_WIDTH: positive(DEFAULT_THUMBNAIL_OPTIONS.width),
  THUMBNAIL_HEIGHT: positive(DEFAULT_THUMBNAIL_OPTIONS.height),
  MAX_INPUT_BYTES: positive(DEFAULT_THUMBNAIL_OPTIONS.maxInputBytes),
  MAX_INPUT_PIXELS: positive(DEFAULT_THUMBNAIL_OPTIONS.limitInputPixels),
});

export type ThumbnailerConfig = z.infer<typeof thumbnailerEnv>;

export const readThumbnailerConfig = (env = process.env): ThumbnailerConfig =>
  readConfig(thumbnailerEnv, env);
