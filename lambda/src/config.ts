import * as z from 'zod/mini';
import { tableNameEnv } from '@twin/products';
import { commonEnv } from '@twin/service-kit/config';
import { faultEnv } from '@twin/service-kit/faults';

/**
 * The products function's environment, read with the services' reader (readConfig of
 * @twin/service-kit/config) when its module loads, so a misconfigured function fails its init
 * naming the variable.
 */
export const productsFunctionEnv = z.object({
  ...commonEnv,
  TABLE_NAME: tableNameEnv,
  ...faultEnv,
});
