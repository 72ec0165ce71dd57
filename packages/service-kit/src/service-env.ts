import { z } from 'zod';

/** Variables every service reads. */
export const serviceEnv = {
  PORT: z.coerce.number().int().min(0).max(65535),
  /** Loopback unless told otherwise; the images set 0.0.0.0, which a pod or a compose network needs. */
  HOST: z
    .union([z.ipv4(), z.ipv6(), z.hostname()], {
      error: 'must be an IP address or a host name, e.g. 0.0.0.0',
    })
    .default('127.0.0.1'),
  APP_VERSION: z.string().min(1).default('1.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};
