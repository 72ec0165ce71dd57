import { z } from 'zod';
import { readConfig, serviceEnv } from '@twin/service-kit';

const booleanFlag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

export const backendEnv = z.object({
  ...serviceEnv,
  PORT: serviceEnv.PORT.default(8081),
  TABLE_NAME: z.string().min(3).max(255).default('products'),
  AWS_REGION: z.string().min(1, 'is required (any value for dynalite or dynamodb-local)'),
  /** For dev stores only: in AWS the table belongs to the SAM template. */
  CREATE_TABLE: booleanFlag.default(false),
  /** Fault injection for the mesh demos; both off unless set. */
  FAULT_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  FAULT_ERROR_RATE: z.coerce.number().min(0).max(1).default(0),
  FAULT_ERROR_STATUS: z.coerce.number().int().min(500).max(599).default(503),
});

export type BackendConfig = z.infer<typeof backendEnv>;

export const readBackendConfig = (env = process.env): BackendConfig => readConfig(backendEnv, env);
