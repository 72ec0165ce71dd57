import { execFileSync } from 'node:child_process';
import path from 'node:path';
import isPlainObject from 'is-plain-obj';
import { parseAllDocuments } from 'yaml';

/** What a workload asks the scheduler for, summed over its replicas' containers. */
export interface Resources {
  cpuMillis: number;
  memoryMib: number;
}

export interface Workload {
  kind: string;
  namespace: string;
  name: string;
  /** The pods' `app` label. */
  app?: string;
  replicas: number;
  /** Per pod, the app's containers. */
  perPod: Resources;
  /** Per pod, the injected istio-proxy; undefined when the pod gets no sidecar. */
  sidecar?: Resources;
}

/** Istio's injection defaults (values.global.proxy.resources.requests of the istio-discovery chart). */
export const ISTIO_SIDECAR_DEFAULT: Resources = { cpuMillis: 100, memoryMib: 128 };

type Dict = Record<string, unknown>;
const dict = (value: unknown): Dict => (isPlainObject(value) ? value : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Kubernetes CPU quantity ("50m", "1", "0.5") in millicores. */
export function cpuMillis(quantity: unknown): number {
  if (quantity === undefined || quantity === null) return 0;
  const text = String(quantity).trim();
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(text);
  if (!match) throw new Error(`not a CPU quantity: ${text}`);
  const value = Number(match[1]);
  return match[2] === 'm' ? value : value * 1000;
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1 / 2 ** 20,
  Ki: 1 / 1024,
  Mi: 1,
  Gi: 1024,
  Ti: 1024 ** 2,
  k: 1e3 / 2 ** 20,
  M: 1e6 / 2 ** 20,
  G: 1e9 / 2 ** 20,
};

/** Kubernetes memory quantity ("128Mi", "1Gi", "500M", bytes) in MiB. */
export function memoryMib(quantity: unknown): number {
  if (quantity === undefined || quantity === null) return 0;
  const text = String(quantity).trim();
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G)?$/.exec(text);
  if (!match) throw new Error(`not a memory quantity: ${text}`);
  return Number(match[1]) * (MEMORY_UNITS[match[2] ?? ''] as number);
}

function injectionEnabled(namespaceLabels: Dict): boolean {
  return namespaceLabels['istio-injection'] === 'enabled' || 'istio.io/rev' in namespaceLabels;
}

/**
 * Workloads and their resource requests from rendered manifests (`kubectl kustomize` output),
 * with the istio-proxy container that sidecar injection would add: pods in a namespace labelled
 * istio-injection=enabled, unless the pod opts out with sidecar.istio.io/inject: "false"; its
 * requests come from the sidecar.istio.io/proxyCPU / proxyMemory annotations or Istio's defaults.
 */
export function workloadsFromManifests(
  documents: unknown[],
  sidecarDefault: Resources = ISTIO_SIDECAR_DEFAULT,
): Workload[] {
  const namespaces = new Map<string, Dict>();
  for (const doc of documents.map(dict)) {
    if (doc.kind === 'Namespace') {
      const metadata = dict(doc.metadata);
      namespaces.set(String(metadata.name), dict(metadata.labels));
    }
  }
  const workloads: Workload[] = [];
  for (const doc of documents.map(dict)) {
    if (!['Deployment', 'StatefulSet'].includes(String(doc.kind))) continue;
    const metadata = dict(doc.metadata);
    const spec = dict(doc.spec);
    const template = dict(spec.template);
    const podMetadata = dict(template.metadata);
    const labels = dict(podMetadata.labels);
    const annotations = dict(podMetadata.annotations);
    const namespace = String(metadata.namespace ?? 'default');
    const perPod: Resources = { cpuMillis: 0, memoryMib: 0 };
    for (const container of list(dict(template.spec).containers).map(dict)) {
      const requests = dict(dict(container.resources).requests);
      perPod.cpuMillis += cpuMillis(requests.cpu);
      perPod.memoryMib += memoryMib(requests.memory);
    }
    const optOut =
      labels['sidecar.istio.io/inject'] === 'false' || annotations['sidecar.istio.io/inject'] === 'false';
    const optIn = labels['sidecar.istio.io/inject'] === 'true';
    const injected = optIn || (!optOut && injectionEnabled(namespaces.get(namespace) ?? {}));
    workloads.push({
      kind: String(doc.kind),
      namespace,
      name: String(metadata.name),
      app: typeof labels.app === 'string' ? labels.app : undefined,
      replicas: typeof spec.replicas === 'number' ? spec.replicas : 1,
      perPod,
      sidecar: injected
        ? {
            cpuMillis:
              annotations['sidecar.istio.io/proxyCPU'] !== undefined
                ? cpuMillis(annotations['sidecar.istio.io/proxyCPU'])
                : sidecarDefault.cpuMillis,
            memoryMib:
              annotations['sidecar.istio.io/proxyMemory'] !== undefined
                ? memoryMib(annotations['sidecar.istio.io/proxyMemory'])
                : sidecarDefault.memoryMib,
          }
        : undefined,
    });
  }
  return workloads;
}

/** Renders a kustomize overlay with `kubectl kustomize`, as docs/kubernetes.md and skaffold do. */
export function renderOverlay(repositoryRoot: string, overlay: string): unknown[] {
  const output = execFileSync('kubectl', ['kustomize', path.join(repositoryRoot, overlay)], {
    encoding: 'utf8',
    maxBuffer: 32 * 1024 * 1024,
  });
  return parseAllDocuments(output).map((doc) => doc.toJSON() as unknown);
}
