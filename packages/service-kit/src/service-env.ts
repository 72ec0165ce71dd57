import { z } from 'zod';

/** Variables every service reads. */
export const serviceEnv = {
  PORT: z.coerce.number().int().min(0).max(65535),
  APP_VERSION: z.string().min(1).default('1.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};
