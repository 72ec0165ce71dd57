/** One thing wrong with the mesh configuration: the file, the field inside it, and what is wrong. */
export interface ConfigProblem {
  /** Path of the file, relative to the repository root (e.g. `k8s/istio/virtual-service-backend.yaml`). */
  file: string;
  /** The field as a path into the resource, e.g. `spec.http[0].route[1].weight`; empty for the whole file. */
  field: string;
  message: string;
}

/** `file: field: message`, the one-line form every problem is reported in. */
export const formatProblem = ({ file, field, message }: ConfigProblem): string =>
  field ? `${file}: ${field}: ${message}` : `${file}: ${message}`;

/**
 * The configuration could not be loaded: a file does not parse, a patch does not apply, or a resource
 * does not validate. `problems` lists every one found; the message names each by file and field.
 */
export class MeshConfigError extends Error {
  override name = 'MeshConfigError';

  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}
