import { z } from 'zod';
import { thumbnailEnv } from '@twin/thumbnails';
import { readConfig, serviceEnv } from '@twin/service-kit';

export const thumbnailerEnv = z.object({
  ...serviceEnv,
  ...thumbnailEnv,
  PORT: serviceEnv.PORT.default(8082),
  AWS_REGION: z.string({ error: 'is required (any value for MinIO or s3rver)' }),
  /** Readiness checks this bucket; the events themselves name theirs. */
  BUCKET: z.string().min(3).default('images'),
});

export type ThumbnailerConfig = z.infer<typeof thumbnailerEnv>;

export const readThumbnailerConfig = (env = process.env): ThumbnailerConfig =>
  readConfig(thumbnailerEnv, env);
