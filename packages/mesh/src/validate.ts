// Validation of the Istio resources: each against its kind's schema, then the references between
// them that Istio itself would only notice at run time (a route to a subset no DestinationRule
// defines sends traffic nowhere: Envoy answers 503 NC).
import type { z } from 'zod';
import type { ConfigProblem } from './errors';
import { ISTIO_KINDS, SCHEMAS } from './schemas';
import type { DestinationRule, IstioResource, VirtualService } from './types';

/** `['spec', 'http', 0, 'weight']` -> `spec.http[0].weight`. */
export const fieldPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );

function problemOf(issue: z.core.$ZodIssue, file: string, after?: string): ConfigProblem[] {
  const suffix = after ? ` (after the patch ${after})` : '';
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      file,
      field: fieldPath([...issue.path, key]),
      message: `is not a field the mesh model reads${suffix}`,
    }));
  }
  const message = /received undefined$/.test(issue.message) ? 'is required' : issue.message;
  return [{ file, field: fieldPath(issue.path), message: `${message}${suffix}` }];
}

/**
 * Validates one resource against the schema of its kind.
 * @param after the overlay patch files applied to it, named in its problems.
 * @returns the typed resource, or the problems (file and field of each).
 */
export function validateResource(
  value: unknown,
  file: string,
  after?: string,
): { resource?: IstioResource; problems: ConfigProblem[] } {
  const kind = (value as { kind?: unknown }).kind;
  const schema = SCHEMAS[kind as keyof typeof SCHEMAS] as z.ZodType | undefined;
  if (!schema) {
    return {
      problems: [{ file, field: 'kind', message: `${String(kind)} is not one of ${ISTIO_KINDS.join(', ')}` }],
    };
  }
  const result = schema.safeParse(value);
  if (result.success) return { resource: result.data as IstioResource, problems: [] };
  return { problems: result.error.issues.flatMap((issue) => problemOf(issue, file, after)) };
}

/** `backend`, `backend.mesh-demo`, `backend.mesh-demo.svc.cluster.local` -> `backend`. */
export const shortHost = (host: string): string => host.split('.')[0] ?? host;

/** Resources of one kind, namespace and name defined twice, and routes to subsets no DestinationRule defines. */
export function checkReferences(
  resources: IstioResource[],
  fileOf: (resource: IstioResource) => string,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, IstioResource>();
  for (const resource of resources) {
    const key = `${resource.kind}/${resource.metadata.namespace ?? 'default'}/${resource.metadata.name}`;
    const first = seen.get(key);
    if (first)
      problems.push({
        file: fileOf(resource),
        field: 'metadata.name',
        message: `${key} is also defined in ${fileOf(first)}`,
      });
    else seen.set(key, resource);
  }
  const rules = resources.filter((r): r is DestinationRule => r.kind === 'DestinationRule');
  const subsets = (host: string, namespace: string) =>
    rules
      .filter(
        (dr) =>
          shortHost(dr.spec.host) === shortHost(host) && (dr.metadata.namespace ?? 'default') === namespace,
      )
      .flatMap((dr) => (dr.spec.subsets ?? []).map((s) => s.name));
  for (const vs of resources.filter((r): r is VirtualService => r.kind === 'VirtualService'))
    vs.spec.http.forEach((route, i) =>
      route.route.forEach(({ destination }, j) => {
        if (!destination.subset) return;
        const known = subsets(destination.host, vs.metadata.namespace ?? 'default');
        if (!known.includes(destination.subset))
          problems.push({
            file: fileOf(vs),
            field: `spec.http[${i}].route[${j}].destination.subset`,
            message: `${destination.subset} is not a subset of ${destination.host} in any DestinationRule (${known.join(', ') || 'none defined'})`,
          });
      }),
    );
  return problems;
}
