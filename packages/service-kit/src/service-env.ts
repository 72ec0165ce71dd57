import { z } from 'zod';
import { commonEnv } from './config';

/** Variables every service reads; each service gives PORT its default (`serviceEnv.PORT.default(8080)`). */
export const serviceEnv = {
  PORT: z.coerce.number().int().min(0).max(65535),
  /** Loopback unless told otherwise; the images set 0.0.0.0, which a pod or a compose network needs. */
  HOST: z
    .union([z.ipv4(), z.ipv6(), z.hostname()], {
      error: 'must be an IP address or a host name, e.g. 0.0.0.0',
    })
    .default('127.0.0.1'),
  ...commonEnv,
};
