// A canary overlay (k8s/overlays/canary-N/kustomization.yaml) as kustomize applies it to the Istio
// resources: each entry of `patches` names a file of RFC 6902 operations and a target (group,
// version, kind, name, namespace), and is applied to every resource the target selects. `test`
// operations are honoured: a failed test refuses the whole overlay instead of patching the wrong
// destination (kubectl.docs.kubernetes.io/references/kustomize/kustomization/patches/).
import { applyPatch, JsonPatchError, type Operation } from 'fast-json-patch';
import type { ConfigProblem } from './errors';
import type { IstioResource } from './types';

/** What a `patches` entry selects; every field given must match. */
export interface PatchTarget {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

/** One `patches` entry, its operations read from `file`. */
export interface OverlayPatch {
  /** The patch file, relative to the repository root. */
  file: string;
  target: PatchTarget;
  operations: Operation[];
}

const selects = (target: PatchTarget, resource: IstioResource): boolean => {
  const [group, version] = resource.apiVersion.includes('/')
    ? resource.apiVersion.split('/')
    : ['', resource.apiVersion];
  return (
    (target.group === undefined || target.group === group) &&
    (target.version === undefined || target.version === version) &&
    (target.kind === undefined || target.kind === resource.kind) &&
    (target.name === undefined || target.name === resource.metadata.name) &&
    (target.namespace === undefined || target.namespace === (resource.metadata.namespace ?? 'default'))
  );
};

/**
 * Applies the patches in order to copies of the resources they target.
 * @returns the patched resources (the others unchanged) and one problem per patch that failed: a
 *   target that selects nothing, a failed `test`, a path that does not resolve.
 */
export function applyOverlay(
  resources: IstioResource[],
  patches: OverlayPatch[],
): { resources: IstioResource[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  let out = resources;
  for (const patch of patches) {
    if (!out.some((resource) => selects(patch.target, resource))) {
      problems.push({
        file: patch.file,
        field: '',
        message: `its target ${JSON.stringify(patch.target)} selects no resource`,
      });
      continue;
    }
    out = out.map((resource) => {
      if (!selects(patch.target, resource)) return resource;
      try {
        return applyPatch(resource, patch.operations, true, false).newDocument;
      } catch (err) {
        if (!(err instanceof JsonPatchError)) throw err;
        const op = patch.operations[err.index ?? 0];
        const what =
          err.name === 'TEST_OPERATION_FAILED'
            ? `test failed: ${op?.path} is not ${JSON.stringify((op as { value?: unknown })?.value)}`
            : err.message.split('\n')[0];
        problems.push({
          file: patch.file,
          field: `[${err.index ?? 0}]`,
          message: `${what} in ${resource.kind}/${resource.metadata.name}`,
        });
        return resource;
      }
    });
  }
  return { resources: out, problems };
}
