// The mesh half of the local stack: the pods as Kubernetes runs them (k8s/base's app and version
// labels, one ServiceAccount per service) and the plan the local data plane (@twin/mesh) executes:
// a sidecar per pod, the ingress gateway on the public port, and the object store's sidecar through
// which upload events reach the thumbnailer, as MinIO's does in the cluster. No port is picked ahead
// of time: the apps start first on ports of their own, the data plane then opens its listeners on
// ports the OS picks and names them (GET /proxies), and the frontend, whose BACKEND_URL is its
// sidecar's outbound listener, starts last and is then handed to its sidecar.
import path from 'node:path';
import type { ProxySpec } from '@twin/mesh';
import { httpUrl } from './ports';

/** The namespace of k8s/base, which the policies under k8s/istio name. */
export const MESH_NAMESPACE = 'mesh-demo';
/** The repository root, holding k8s/ (local/dist or local/src, two levels down). */
export const REPO_ROOT = path.resolve(__dirname, '../..');
/** The canary stages, by the percentage of calls on v2: the overlays under k8s/overlays/. */
export const CANARY_STAGES = ['10', '50', '100'] as const;

/** How `npm start` runs the mesh; without it the services call each other directly. */
export interface MeshOptions {
  /** The overlay in force, e.g. canary-10. */
  stage: string;
  /** Backend pods per version. */
  replicas: { v1: number; v2: number };
  /** The data plane's admin endpoint (Envoy's admin port in a pod is 15000); 0: any free port. */
  adminPort: number;
  /** The repository root whose k8s/ holds the policy; default this repository. */
  root?: string;
}

export const DEFAULT_MESH: MeshOptions = { stage: 'canary-10', replicas: { v1: 2, v2: 1 }, adminPort: 15000 };

/** One backend pod: its name, version label and APP_VERSION. */
export interface BackendPod {
  name: string;
  version: 'v1' | 'v2';
  appVersion: string;
}

/** The backend pods of `replicas`, v1's first: backend-v1-0, backend-v1-1, backend-v2-0... */
export function backendPods(replicas: MeshOptions['replicas']): BackendPod[] {
  return (
    [
      ['v1', replicas.v1, '1.0.0'],
      ['v2', replicas.v2, '2.0.0'],
    ] as const
  ).flatMap(([version, count, appVersion]) =>
    Array.from({ length: count }, (_, i) => ({ name: `backend-${version}-${i}`, version, appVersion })),
  );
}

/** An app of the mesh that is listening: its host:port and its PID (shown for `kill -STOP`). */
export interface MeshApp {
  address: string;
  pid?: number;
}

const pod = (name: string, app: string, version: string, serviceAccount = app) => ({
  name,
  namespace: MESH_NAMESPACE,
  serviceAccount,
  labels: { app, version },
});

/**
 * The proxies of the data plane: the ingress gateway on `host:gatewayPort` (0: any free port), a
 * sidecar per pod in front of its app, and the object store's sidecar. Every sidecar listener gets
 * port 0 and stays on loopback. The frontend's sidecar has no app yet (see the file's header); the
 * thumbnailer's has none when no thumbnailer runs.
 */
export function meshProxies(
  apps: { backends: Array<BackendPod & MeshApp>; thumbnailer?: MeshApp },
  gatewayPort: number,
  host = '127.0.0.1',
): ProxySpec[] {
  return [
    {
      name: 'istio-ingressgateway',
      namespace: 'istio-system',
      serviceAccount: 'istio-ingressgateway-service-account',
      labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' },
      gateway: { port: gatewayPort, host },
    },
    {
      ...pod('frontend', 'frontend', 'v1'),
      inbound: { port: 0 },
      outbound: [{ host: 'backend', port: 0 }],
    },
    ...apps.backends.map((b) => ({
      ...pod(b.name, 'backend', b.version),
      pid: b.pid,
      inbound: { port: 0, appAddress: b.address },
    })),
    {
      ...pod('thumbnailer', 'thumbnailer', 'v1'),
      pid: apps.thumbnailer?.pid,
      inbound: { port: 0, appAddress: apps.thumbnailer?.address },
      // Its app calls no service of the mesh, but its sidecar, like any, has a way out to each.
      outbound: [{ host: 'backend', port: 0 }],
    },
    { ...pod('minio', 'minio', 'v1'), outbound: [{ host: 'thumbnailer', port: 0 }] },
  ];
}

/** The data plane's listeners the rest of the stack is pointed at. */
export interface MeshListeners {
  /** The ingress gateway, where the stack's host serves the page. */
  gatewayUrl: string;
  /** Where the frontend reaches the backend: its sidecar's outbound listener. */
  frontendBackendUrl: string;
  /** Where upload events go: the object store's sidecar, outbound to the thumbnailer. */
  eventsUrl: string;
}

/**
 * Reads the ports the data plane's listeners got from its admin endpoint (GET /proxies).
 * @throws Error when the admin does not answer, or a listener of `meshProxies` is missing.
 */
export async function meshListeners(adminUrl: string, host = '127.0.0.1'): Promise<MeshListeners> {
  const response = await fetch(`${adminUrl}/proxies`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`the data plane's GET /proxies answered ${response.status}`);
  const proxies = (await response.json()) as Array<{
    name: string;
    listeners: { outbound: Record<string, number>; gateway?: number };
  }>;
  const listener = (
    proxy: string,
    pick: (l: (typeof proxies)[number]['listeners']) => number | undefined,
  ) => {
    const listeners = proxies.find((p) => p.name === proxy)?.listeners;
    const port = listeners && pick(listeners);
    if (port === undefined) throw new Error(`the data plane names no such listener of ${proxy}`);
    return port;
  };
  const loopback = (port: number) => httpUrl('127.0.0.1', port);
  return {
    gatewayUrl: httpUrl(
      host,
      listener('istio-ingressgateway', (l) => l.gateway),
    ),
    frontendBackendUrl: loopback(listener('frontend', (l) => l.outbound.backend)),
    eventsUrl: `${loopback(listener('minio', (l) => l.outbound.thumbnailer))}/events`,
  };
}

/**
 * Reads `--replicas v1=N,v2=M` (each 0 to 10, not both 0; one may be left out and keeps its default).
 * @throws Error naming what is wrong.
 */
export function parseReplicas(text: string, defaults = DEFAULT_MESH.replicas): { v1: number; v2: number } {
  const replicas = { ...defaults };
  for (const part of text.split(',')) {
    const m = /^(v1|v2)=(\d{1,2})$/.exec(part.trim());
    if (!m || Number(m[2]) > 10) throw new Error(`'${part}' is not v1=N or v2=N with N from 0 to 10`);
    replicas[m[1] as 'v1' | 'v2'] = Number(m[2]);
  }
  if (replicas.v1 + replicas.v2 === 0) throw new Error('at least one backend pod is needed');
  return replicas;
}

/** The fault-injection settings the backend reads, which npm start, like docker-compose.yml, takes per version. */
const FAULT_SETTINGS = ['FAULT_ERROR_RATE', 'FAULT_DELAY_MS', 'FAULT_ERROR_STATUS'] as const;

/**
 * The fault settings of one version's backend pods, from `BACKEND_V1_FAULT_ERROR_RATE`,
 * `BACKEND_V2_FAULT_DELAY_MS`... as docker-compose.yml names them, e.g. a failing canary:
 * `BACKEND_V2_FAULT_ERROR_RATE=0.5 npm start`. The backend validates the values when it starts.
 */
export function versionFaultEnv(version: 'v1' | 'v2', env: NodeJS.ProcessEnv): Record<string, string> {
  const prefix = `BACKEND_${version.toUpperCase()}_`;
  return Object.fromEntries(
    FAULT_SETTINGS.flatMap((name) => {
      const value = env[`${prefix}${name}`];
      return value === undefined || value === '' ? [] : [[name, value]];
    }),
  );
}
