import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** A published version's number: Lambda numbers versions 1, 2, 3... */
const versionNumber = z.string().regex(/^[1-9]\d*$/, 'must be a published version number (1, 2, ...)');

const weights = z
  .record(versionNumber, z.number().min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1'))
  .refine((entries) => Object.keys(entries).length <= 1, 'an alias routes to at most one additional version');

/** An alias's target, in the shape of Lambda's UpdateAlias request and the versions file. */
export const aliasRouting = z
  .object({
    FunctionVersion: versionNumber,
    RoutingConfig: z.object({ AdditionalVersionWeights: weights.optional() }).strict().optional(),
  })
  .strict();

const versionsFile = z.record(
  z.string(),
  z
    .object({
      /** Versions after 1 (the template as it is), each with the variables it changes. */
      Versions: z
        .record(
          versionNumber,
          z
            .object({
              Environment: z
                .object({ Variables: z.record(z.string(), z.string()) })
                .strict()
                .optional(),
            })
            .strict(),
        )
        .optional(),
      /** Where the template's AutoPublishAlias points. */
      Alias: aliasRouting.optional(),
    })
    .strict(),
);

/** What a versions file says about one function. */
export interface FunctionVersions {
  /** By version number: the variables that version sets on top of the template's. */
  versions: Record<string, Record<string, string>>;
  alias?: AliasTarget;
}

/** Where an alias points: a version, and at most one more with the share of traffic it gets (0..1). */
export interface AliasTarget {
  functionVersion: string;
  additionalVersionWeights: Record<string, number>;
}

export class VersionsFileError extends Error {
  override name = 'VersionsFileError';
}

/** An alias target from the API's or the file's shape. */
export function aliasTarget(routing: z.infer<typeof aliasRouting>): AliasTarget {
  return {
    functionVersion: routing.FunctionVersion,
    additionalVersionWeights: routing.RoutingConfig?.AdditionalVersionWeights ?? {},
  };
}

/** zod's first issue as `path: message` (for a bad record key, what is wrong with the key). */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return error.message;
  const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
  return `${issue.path.map(String).join('.') || '(top)'}: ${message}`;
}

/**
 * Reads a versions file: for some functions of the template, the versions published after version 1
 * (which is the template as it is), each with the environment variables it changes, and where the
 * function's alias points, e.g.
 *
 *     { "ProductsFunction": {
 *         "Versions": { "2": { "Environment": { "Variables": { "APP_VERSION": "2.0.0" } } } },
 *         "Alias": { "FunctionVersion": "1", "RoutingConfig": { "AdditionalVersionWeights": { "2": 0.1 } } } } }
 *
 * `Alias` has the shape of Lambda's UpdateAlias request. Throws VersionsFileError naming the file and
 * the field when it cannot be read or does not hold.
 */
export function readVersionsFile(file: string): Record<string, FunctionVersions> {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new VersionsFileError(`${file}: ${(err as Error).message}`);
  }
  const parsed = versionsFile.safeParse(document);
  if (!parsed.success) throw new VersionsFileError(`${file}: ${describeIssue(parsed.error)}`);
  return Object.fromEntries(
    Object.entries(parsed.data).map(([name, entry]) => [
      name,
      {
        versions: Object.fromEntries(
          Object.entries(entry.Versions ?? {}).map(([version, spec]) => [
            version,
            spec.Environment?.Variables ?? {},
          ]),
        ),
        ...(entry.Alias ? { alias: aliasTarget(entry.Alias) } : {}),
      },
    ]),
  );
}

/**
 * Lambda's rules for an alias over the published versions: both versions published, the additional
 * one not the primary one. Returns what is wrong, or undefined.
 */
export function aliasProblem(target: AliasTarget, published: string[]): string | undefined {
  if (!published.includes(target.functionVersion))
    return `version ${target.functionVersion} is not published`;
  for (const version of Object.keys(target.additionalVersionWeights)) {
    if (!published.includes(version)) return `version ${version} is not published`;
    if (version === target.functionVersion) {
      return `the additional version ${version} must differ from FunctionVersion`;
    }
  }
  return undefined;
}

/**
 * The version an invocation of the alias runs: the additional version with its weight's probability,
 * otherwise the primary one, drawn per invocation as Lambda does.
 */
export function routeAlias(target: AliasTarget, random: () => number = Math.random): string {
  const [additional] = Object.entries(target.additionalVersionWeights);
  if (additional && random() < additional[1]) return additional[0];
  return target.functionVersion;
}
