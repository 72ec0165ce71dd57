import { z } from 'zod';
import { readConfig, serviceEnv } from '@twin/service-kit';

export const frontendEnv = z.object({
  ...serviceEnv,
  PORT: serviceEnv.PORT.default(8080),
  BACKEND_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://localhost:8081' }),
  /** Under Istio's route timeout (5 s) so the mesh's answer, not ours, is the one users see there. */
  BACKEND_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
  JAEGER_UI_URL: z.url().optional(),
});

export type FrontendConfig = z.infer<typeof frontendEnv>;

export const readFrontendConfig = (env = process.env): FrontendConfig => readConfig(frontendEnv, env);
