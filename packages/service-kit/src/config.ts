import { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Variables every service reads. */
export const serviceEnv = {
  PORT: z.coerce.number().int().min(0).max(65535),
  APP_VERSION: z.string().min(1).default('1.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

/**
 * Validates the environment against a schema once, at start. Every problem is listed with the
 * variable it concerns, so a misconfigured pod says what is wrong instead of failing later.
 */
export function readConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  // An empty variable means "not set", as in most shells and compose files.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`,
  );
  throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
}
