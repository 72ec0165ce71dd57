import { z } from 'zod';
import { readConfig, serviceEnv } from '@twin/service-kit';

export const frontendEnv = z.object({
  ...serviceEnv,
  PORT: serviceEnv.PORT.default(8080),
  BACKEND_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://localhost:8081' }),
  /** Deadline of each backend call. The k8s manifests set it above Istio's route timeout, so there the mesh's timeout and retries act first. */
  BACKEND_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
  /** The Jaeger UI as the browser reaches it (e.g. through a port-forward); the page links to it. */
  JAEGER_UI_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://localhost:16686' })
    .optional(),
  /**
   * Jaeger's query API as the frontend reaches it (e.g. the local stack's trace store); the page's
   * Traces view reads it through GET /api/jaeger/*, since the page may only call its own origin.
   */
  JAEGER_QUERY_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://127.0.0.1:16686' })
    .optional(),
  /** The name the frontend's spans carry, which the page's Jaeger search link asks for. */
  OTEL_SERVICE_NAME: z.string().min(1).default('frontend'),
  AWS_REGION: z.string({ error: 'is required (any value for MinIO or s3rver)' }),
  BUCKET: z.string().min(3).default('images'),
  UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  /** Refused before decoding: a small file can declare an enormous image. */
  UPLOAD_MAX_PIXELS: z.coerce.number().int().positive().default(50_000_000),
});

export type FrontendConfig = z.infer<typeof frontendEnv>;

export const readFrontendConfig = (env = process.env): FrontendConfig => readConfig(frontendEnv, env);
