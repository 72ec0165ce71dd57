// zod's core only: a Lambda handler loads this module alone (`@twin/service-kit/config`), and its
// bundle should not carry the 450 KiB of zod's classic API that the services' schemas are written in.
import { type $ZodType, type output, safeParse } from 'zod/v4/core';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validates the environment against a schema (zod or zod/mini) once, at start. Every problem is
 * listed with the variable it concerns, so a misconfigured pod or function says what is wrong instead
 * of failing later. Throws ConfigError.
 */
export function readConfig<S extends $ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): output<S> {
  // An empty variable means "not set", as in most shells and compose files.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = safeParse(schema, present);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`,
  );
  throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
}
