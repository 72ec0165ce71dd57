// The mesh half of the local stack: the pods as Kubernetes runs them (k8s/base's app and version
// labels, one ServiceAccount per service) and the plan the local data plane (@twin/mesh) executes:
// a sidecar per pod, the ingress gateway on the public port, and the object store's sidecar through
// which upload events reach the thumbnailer, as MinIO's does in the cluster. All ports are chosen
// here, before anything starts, so each app can be told where its sidecar listens.
import path from 'node:path';
import type { ProxySpec } from '@twin/mesh';
import { httpUrl, resolvePort } from './ports';

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

/** One backend pod: its name, version label and APP_VERSION, and its app's port. */
export interface BackendPod {
  name: string;
  version: 'v1' | 'v2';
  appVersion: string;
  port: number;
}

/** Every port and proxy of the mesh, decided before any process starts. */
export interface MeshLayout {
  adminPort: number;
  backends: BackendPod[];
  frontendPort: number;
  thumbnailerPort: number;
  /** Where the frontend reaches the backend: its sidecar's outbound listener. */
  frontendBackendUrl: string;
  /** Where upload events go: the object store's sidecar, outbound to the thumbnailer. */
  eventsUrl: string;
  proxies: ProxySpec[];
}

const pod = (name: string, app: string, version: string, serviceAccount = app) => ({
  name,
  namespace: MESH_NAMESPACE,
  serviceAccount,
  labels: { app, version },
});

/**
 * Lays out the mesh: backend pods `backend-v1-0`... (the first on `ports.backend`, as the direct
 * stack's backend), the frontend and thumbnailer apps on free ports, the ingress gateway on
 * `ports.frontend`, and every sidecar listener on a free port. The apps and the gateway listen on
 * `host`, as the rest of the stack; the sidecars' own listeners stay on loopback.
 */
export async function layoutMesh(
  options: MeshOptions,
  ports: { frontend: number; backend: number; thumbnailer: number },
  host = '127.0.0.1',
): Promise<MeshLayout> {
  const free = () => resolvePort(0);
  const freeOnHost = () => resolvePort(0, host);
  const backends: BackendPod[] = [];
  for (const [version, count, appVersion] of [
    ['v1', options.replicas.v1, '1.0.0'],
    ['v2', options.replicas.v2, '2.0.0'],
  ] as const)
    for (let i = 0; i < count; i++)
      backends.push({
        name: `backend-${version}-${i}`,
        version,
        appVersion,
        port: backends.length === 0 ? await resolvePort(ports.backend, host) : await freeOnHost(),
      });
  const frontendPort = await freeOnHost();
  const thumbnailerPort = await resolvePort(ports.thumbnailer, host);
  const frontendOutbound = await free();
  const minioOutbound = await free();
  const address = (port: number) => `127.0.0.1:${port}`;
  const appAddress = (port: number) => new URL(httpUrl(host, port)).host;
  const proxies: ProxySpec[] = [
    {
      name: 'istio-ingressgateway',
      namespace: 'istio-system',
      serviceAccount: 'istio-ingressgateway-service-account',
      labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' },
      gateway: { port: await resolvePort(ports.frontend, host), host },
    },
    {
      ...pod('frontend', 'frontend', 'v1'),
      inbound: { port: await free(), appAddress: appAddress(frontendPort) },
      outbound: [{ host: 'backend', port: frontendOutbound }],
    },
    ...(await Promise.all(
      backends.map(async (b) => ({
        ...pod(b.name, 'backend', b.version),
        inbound: { port: await free(), appAddress: appAddress(b.port) },
      })),
    )),
    {
      ...pod('thumbnailer', 'thumbnailer', 'v1'),
      inbound: { port: await free(), appAddress: appAddress(thumbnailerPort) },
      // Its app calls no service of the mesh, but its sidecar, like any, has a way out to each.
      outbound: [{ host: 'backend', port: await free() }],
    },
    { ...pod('minio', 'minio', 'v1'), outbound: [{ host: 'thumbnailer', port: minioOutbound }] },
  ];
  return {
    adminPort: await resolvePort(options.adminPort),
    backends,
    frontendPort,
    thumbnailerPort,
    frontendBackendUrl: `http://${address(frontendOutbound)}`,
    eventsUrl: `http://${address(minioOutbound)}/events`,
    proxies,
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
