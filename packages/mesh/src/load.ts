// Loads the mesh's one policy from the repository as `kubectl kustomize k8s/overlays/<stage>`
// would render its Istio part: the resources the k8s/istio component lists, with the stage's
// JSON patches applied, then validated. Synchronous: a handful of small files, read at start and
// on each change.
import fs from 'node:fs';
import path from 'node:path';
import type { Operation } from 'fast-json-patch';
import isObject from 'is-plain-obj';
import YAML from 'yaml';
import { type ConfigProblem, MeshConfigError } from './errors';
import { applyOverlay, type OverlayPatch, type PatchTarget } from './overlay';
import { checkReferences, validateResource } from './validate';
import type {
  AuthorizationPolicy,
  DestinationRule,
  Gateway,
  IstioResource,
  PeerAuthentication,
  VirtualService,
} from './types';

/** Where the policy lives in the repository. */
export const ISTIO_DIR = 'k8s/istio';
export const OVERLAYS_DIR = 'k8s/overlays';

export interface LoadOptions {
  /** The repository root (the folder holding k8s/). */
  root: string;
  /** An overlay under k8s/overlays/ (`canary-10`, `canary-50`, `canary-100`); none: the component as written. */
  stage?: string;
}

/** The validated Istio resources of one stage. */
export interface MeshConfig {
  stage?: string;
  /** In the order the kustomization lists their files. */
  resources: IstioResource[];
  virtualServices: VirtualService[];
  destinationRules: DestinationRule[];
  peerAuthentications: PeerAuthentication[];
  authorizationPolicies: AuthorizationPolicy[];
  gateways: Gateway[];
  /** The file (relative to the root) each resource was read from. */
  fileOf(resource: IstioResource): string;
  /** Absolute paths of the folders whose files make this configuration: watch these to follow edits. */
  watchPaths: string[];
}

type Docs = { file: string; value: unknown }[];

function readYaml(root: string, file: string, problems: ConfigProblem[]): unknown[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, file), 'utf8');
  } catch (err) {
    problems.push({
      file,
      field: '',
      message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    });
    return undefined;
  }
  const docs = YAML.parseAllDocuments(text, { prettyErrors: true });
  const errors = docs.flatMap((doc) => doc.errors);
  if (errors.length) {
    problems.push({ file, field: '', message: `is not valid YAML: ${errors[0]!.message.split('\n')[0]}` });
    return undefined;
  }
  return docs.map((doc) => doc.toJS() as unknown).filter((value) => value !== null && value !== undefined);
}

function stringList(value: unknown, file: string, field: string, problems: ConfigProblem[]): string[] {
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  problems.push({ file, field, message: 'must be a list of file names' });
  return [];
}

/** The resources listed by k8s/istio/kustomization.yaml, parsed but not yet validated. */
function readComponent(root: string, problems: ConfigProblem[]): Docs {
  const kustomization = `${ISTIO_DIR}/kustomization.yaml`;
  const [doc] = readYaml(root, kustomization, problems) ?? [];
  if (!isObject(doc)) {
    if (doc !== undefined) problems.push({ file: kustomization, field: '', message: 'is not a mapping' });
    return [];
  }
  const files = stringList(doc.resources, kustomization, 'resources', problems);
  return files.flatMap((name) => {
    const file = path.posix.join(ISTIO_DIR, name);
    return (readYaml(root, file, problems) ?? []).map((value) => ({ file, value }));
  });
}

/** The JSON 6902 patches of an overlay's kustomization, in order. */
function readOverlay(root: string, stage: string, problems: ConfigProblem[]): OverlayPatch[] {
  const dir = path.posix.join(OVERLAYS_DIR, stage);
  const kustomization = `${dir}/kustomization.yaml`;
  if (!/^[a-z0-9][-a-z0-9]*$/.test(stage) || !fs.existsSync(path.join(root, kustomization))) {
    problems.push({
      file: kustomization,
      field: '',
      message: `no overlay named ${stage} (see ${OVERLAYS_DIR}/)`,
    });
    return [];
  }
  const [doc] = readYaml(root, kustomization, problems) ?? [];
  if (!isObject(doc)) return [];
  const entries = doc.patches ?? [];
  if (!Array.isArray(entries)) {
    problems.push({ file: kustomization, field: 'patches', message: 'must be a list' });
    return [];
  }
  return entries.flatMap((entry: unknown, i) => {
    const field = `patches[${i}]`;
    if (!isObject(entry) || typeof entry.path !== 'string') {
      problems.push({ file: kustomization, field, message: 'needs a path (inline patches are not read)' });
      return [];
    }
    const file = path.posix.join(dir, entry.path);
    const [operations] = readYaml(root, file, problems) ?? [];
    if (operations === undefined) return [];
    if (!Array.isArray(operations) || !operations.every((op) => isObject(op) && typeof op.op === 'string')) {
      problems.push({ file, field: '', message: 'must be a list of JSON patch operations (RFC 6902)' });
      return [];
    }
    return [
      {
        file,
        target: (isObject(entry.target) ? entry.target : {}) as PatchTarget,
        operations: operations as Operation[],
      },
    ];
  });
}

/**
 * Loads and validates the Istio resources of k8s/istio with the stage's overlay patches applied.
 * @throws MeshConfigError listing every problem (file and field of each) when a file does not
 *   parse, a patch does not apply (a `test` operation fails, a target selects nothing) or a resource
 *   does not validate.
 */
export function loadMeshConfig({ root, stage }: LoadOptions): MeshConfig {
  const problems: ConfigProblem[] = [];
  const docs = readComponent(root, problems);
  const patches = stage === undefined ? [] : readOverlay(root, stage, problems);
  if (problems.length) throw new MeshConfigError(problems);

  const shaped = docs.filter(({ file, value }) => {
    if (isObject(value) && typeof value.kind === 'string' && isObject(value.metadata)) return true;
    problems.push({
      file,
      field: '',
      message: 'holds a document that is not a Kubernetes resource (kind, metadata)',
    });
    return false;
  });
  const raw = shaped.map(({ value }) => value as IstioResource);
  const patched = applyOverlay(raw, patches);
  problems.push(...patched.problems);

  const fileByResource = new Map<IstioResource, string>();
  const resources: IstioResource[] = [];
  patched.resources.forEach((resource, i) => {
    const file = shaped[i]!.file;
    const after = resource === raw[i] ? undefined : patches.map((p) => p.file).join(', ');
    const result = validateResource(resource, file, after);
    if (result.problems.length) problems.push(...result.problems);
    else {
      resources.push(result.resource!);
      fileByResource.set(result.resource!, file);
    }
  });
  const fileOf = (resource: IstioResource) => fileByResource.get(resource) ?? '(unknown file)';
  problems.push(...checkReferences(resources, fileOf));
  if (problems.length) throw new MeshConfigError(problems);

  return assemble(stage, resources, fileOf, [
    path.join(root, ISTIO_DIR),
    ...(stage === undefined ? [] : [path.join(root, OVERLAYS_DIR, stage)]),
  ]);
}

function assemble(
  stage: string | undefined,
  resources: IstioResource[],
  fileOf: (resource: IstioResource) => string,
  watchPaths: string[],
): MeshConfig {
  const ofKind = <R extends IstioResource>(kind: R['kind']) =>
    resources.filter((r): r is R => r.kind === kind);
  return {
    stage,
    resources,
    virtualServices: ofKind<VirtualService>('VirtualService'),
    destinationRules: ofKind<DestinationRule>('DestinationRule'),
    peerAuthentications: ofKind<PeerAuthentication>('PeerAuthentication'),
    authorizationPolicies: ofKind<AuthorizationPolicy>('AuthorizationPolicy'),
    gateways: ofKind<Gateway>('Gateway'),
    fileOf,
    watchPaths,
  };
}

/**
 * The configuration with resources applied over it, as `kubectl apply -f` would: each replaces the
 * resource of the same kind, namespace and name, or joins the others.
 * @param source how the applied resources are named in problems, e.g. the file they came from.
 * @throws MeshConfigError when an applied resource does not validate or breaks a reference.
 */
export function applyResources(config: MeshConfig, applied: unknown[], source: string): MeshConfig {
  const key = (r: { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } }) =>
    `${String(r.kind)}/${String(r.metadata?.namespace ?? 'default')}/${String(r.metadata?.name)}`;
  const problems: ConfigProblem[] = [];
  const valid = applied.flatMap((value) => {
    const result = validateResource(value, source);
    problems.push(...result.problems);
    return result.resource ? [result.resource] : [];
  });
  if (problems.length) throw new MeshConfigError(problems);
  const replaced = new Set(valid.map(key));
  const resources = [...config.resources.filter((r) => !replaced.has(key(r))), ...valid];
  const fileOf = (resource: IstioResource) => (valid.includes(resource) ? source : config.fileOf(resource));
  const broken = checkReferences(resources, fileOf);
  if (broken.length) throw new MeshConfigError(broken);
  return assemble(config.stage, resources, fileOf, config.watchPaths);
}

/** The overlays under k8s/overlays/ (e.g. canary-10, canary-100, canary-50), sorted by name. */
export const listStages = (root: string): string[] =>
  fs
    .readdirSync(path.join(root, OVERLAYS_DIR), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

/** `10`, `canary-10` -> `canary-10`: the overlay of a canary stage, by its percentage or its name. */
export const stageName = (stage: string): string => (/^\d+$/.test(stage) ? `canary-${stage}` : stage);
