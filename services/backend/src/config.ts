import { z } from 'zod';
import { readConfig, serviceEnv } from '@twin/service-kit';
import { faultEnv } from '@twin/service-kit/faults';

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
  ...faultEnv,
});

export type BackendConfig = z.infer<typeof backendEnv>;

export const readBackendConfig = (env = process.env): BackendConfig => readConfig(backendEnv, env);
