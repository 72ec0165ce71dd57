import { z } from 'zod';
import { tableNameEnv } from '@twin/products';
import { readConfig, serviceEnv } from '@twin/service-kit';
import { faultEnv } from '@twin/service-kit/faults';

const booleanFlag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' })
  .transform((value) => value === 'true' || value === '1');

export const backendEnv = z.object({
  ...serviceEnv,
  PORT: serviceEnv.PORT.default(8081),
  TABLE_NAME: tableNameEnv,
  // Empty variables count as unset, so the type's message is the one an absent region gets.
  AWS_REGION: z.string({ error: 'is required (any value for dynalite or dynamodb-local)' }),
  /** For dev stores only: in AWS the table belongs to the SAM template. */
  CREATE_TABLE: booleanFlag.default(false),
  /** Fault injection for the mesh demos; both off unless set. */
  ...faultEnv,
});

export type BackendConfig = z.infer<typeof backendEnv>;

export const readBackendConfig = (env = process.env): BackendConfig => readConfig(backendEnv, env);
