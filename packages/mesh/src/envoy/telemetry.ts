// The tracing part of Istio's Telemetry API (telemetry.istio.io/v1), which the cluster installs from
// k8s/addons: how many requests the sidecars trace. Istio takes the mesh-wide Telemetry resource (in
// the root namespace) and, without one, traces 1% (PILOT_TRACE_SAMPLING's default;
// istio.io/latest/docs/reference/config/telemetry/#Tracing).
import fs from 'node:fs';
import path from 'node:path';
import isObject from 'is-plain-obj';
import YAML from 'yaml';
import { MeshConfigError } from '../errors';
import { ROOT_NAMESPACE } from '../identity';

/** Where the cluster's add-ons, the mesh-wide Telemetry resource among them, are listed. */
export const ADDONS_KUSTOMIZATION = 'k8s/addons/kustomization.yaml';
/** Istio's sampling when no Telemetry resource sets one, in percent. */
export const DEFAULT_SAMPLING_PERCENT = 1;

/**
 * The share of requests the sidecars trace, in percent (0-100), from the mesh-wide Telemetry resource
 * among the add-ons' resources.
 * @throws MeshConfigError naming file and field when that resource's sampling is not a percentage.
 */
export function tracingSamplingPercent(root: string): number {
  const kustomization = YAML.parse(fs.readFileSync(path.join(root, ADDONS_KUSTOMIZATION), 'utf8')) as unknown;
  const files =
    isObject(kustomization) && Array.isArray(kustomization.resources) ? kustomization.resources : [];
  for (const name of files) {
    if (typeof name !== 'string') continue;
    const file = path.posix.join(path.posix.dirname(ADDONS_KUSTOMIZATION), name);
    for (const doc of YAML.parseAllDocuments(fs.readFileSync(path.join(root, file), 'utf8'))) {
      const resource = doc.toJS() as unknown;
      if (!isObject(resource) || resource.kind !== 'Telemetry' || !isObject(resource.metadata)) continue;
      const spec = isObject(resource.spec) ? resource.spec : {};
      if (resource.metadata.namespace !== ROOT_NAMESPACE || spec.selector) continue;
      const tracing = Array.isArray(spec.tracing) ? spec.tracing : [];
      const percent = isObject(tracing[0]) ? tracing[0].randomSamplingPercentage : undefined;
      if (percent === undefined) return DEFAULT_SAMPLING_PERCENT;
      if (typeof percent !== 'number' || percent < 0 || percent > 100)
        throw new MeshConfigError([
          {
            file,
            field: 'spec.tracing[0].randomSamplingPercentage',
            message: 'must be a number from 0 to 100',
          },
        ]);
      return percent;
    }
  }
  return DEFAULT_SAMPLING_PERCENT;
}
