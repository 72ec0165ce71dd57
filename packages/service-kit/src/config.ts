// Configuration alone, importable as `@twin/service-kit/config`: a Lambda function reads its
// environment with it without loading Express or the OpenTelemetry SDK the package index brings,
// and, as an ES module, its bundle keeps only the parts of zod it uses.
import * as z from 'zod/mini';
import { type $ZodRawIssue, type $ZodType, type output, safeParse } from 'zod/v4/core';
import { LOG_LEVELS } from '@twin/observability/log-levels';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Variables services and functions alike read (zod/mini, which the classic z.object takes as is). */
export const commonEnv = {
  APP_VERSION: z._default(z.string().check(z.minLength(1)), '1.0.0'),
  LOG_LEVEL: z._default(z.enum(LOG_LEVELS), 'info'),
};

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);
const EXPECTED: Record<string, string> = { int: 'integer', nan: 'number' };

/**
 * The project's words for what zod found wrong with a variable, for every check whose schema does
 * not say its own: no zod default message reaches an operator, and none repeats the value.
 */
export function configMessage(issue: $ZodRawIssue): string {
  if (issue.input === undefined) return 'is required';
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${article(EXPECTED[issue.expected] ?? issue.expected)}`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? 'at least' : 'at most';
      const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      return issue.origin === 'string'
        ? `must be ${bound} ${String(limit)} characters long`
        : `must be ${bound} ${String(limit)}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return `must be ${article(issue.format === 'url' ? 'URL' : `valid ${issue.format}`)}`;
    default:
      return 'is not valid';
  }
}

/**
 * Validates the environment against a schema (zod or zod/mini) once, at start. Every problem is
 * listed with the variable it concerns, in the schema's words or the project's (configMessage), so
 * a misconfigured pod or function says what is wrong instead of failing later. An empty variable
 * counts as unset, as in most shells and compose files. Throws ConfigError.
 */
export function readConfig<S extends $ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): output<S> {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = safeParse(schema, present, { error: configMessage });
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`,
  );
  throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
}
