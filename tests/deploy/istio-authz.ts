// The rendered manifests as input to the mesh's authorization evaluator (@twin/mesh): the
// workloads of a render, with their identities and sidecars, and its policies.
import type { AuthorizationPolicyInput, PeerAuthenticationInput, Workload } from '@twin/mesh';
import type { K8sObject } from './manifests';

export interface RenderedWorkload extends Workload {
  serviceAccount: string;
  ports: number[];
  annotations: Record<string, string>;
}

interface PodWorkload {
  spec: {
    template: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: { serviceAccountName?: string; containers: { ports?: { containerPort: number }[] }[] };
    };
  };
}

/** Every pod-creating workload of a render, with its identity and whether it gets a sidecar. */
export function renderedWorkloads(objs: K8sObject[]): RenderedWorkload[] {
  const injected = new Set(
    objs
      .filter((o) => o.kind === 'Namespace' && o.metadata.labels?.['istio-injection'] === 'enabled')
      .map((o) => o.metadata.name),
  );
  return objs
    .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind))
    .map((o) => {
      const template = (o as unknown as PodWorkload).spec.template;
      const labels = template.metadata?.labels ?? {};
      const annotations = template.metadata?.annotations ?? {};
      const namespace = o.metadata.namespace ?? 'default';
      const optOut =
        labels['sidecar.istio.io/inject'] === 'false' || annotations['sidecar.istio.io/inject'] === 'false';
      return {
        name: o.metadata.name,
        namespace,
        labels,
        annotations,
        sidecar: injected.has(namespace) && !optOut,
        serviceAccount: template.spec.serviceAccountName ?? 'default',
        ports: template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)),
      };
    });
}

export const authorizationPolicies = (objs: K8sObject[]) =>
  objs.filter((o) => o.kind === 'AuthorizationPolicy') as unknown as AuthorizationPolicyInput[];
export const peerAuthentications = (objs: K8sObject[]) =>
  objs.filter((o) => o.kind === 'PeerAuthentication') as unknown as PeerAuthenticationInput[];
