// What docker-compose.yml runs, as the renderer needs to know it: the pods (an app container beside
// its Envoy sidecar), their labels and service accounts, the ports the sidecars listen on, and the
// services that run without a sidecar. This is the compose twin of what istiod learns from the
// Kubernetes API (Deployments, Services, ServiceAccounts); the traffic and security policy itself comes
// only from the Istio resources. tests/deploy checks this table against k8s/base and docker-compose.yml.

/** One listener a sidecar opens for its app: the port its URL names, and the mesh host it reaches. */
export interface OutboundPort {
  /** Port on the sidecar (e.g. the frontend's BACKEND_URL is `http://frontend-envoy:9080`). */
  port: number;
  /** A mesh host (a Service of the namespace), routed by its VirtualService; or `otlp`, passed through. */
  host: string;
}

/** A pod of docker-compose.yml: the app service `name`, its sidecar `<name>-envoy`. */
export interface ComposeWorkload {
  /** The app's compose service; the sidecar is `<name>-envoy`, its config `envoy/<name>.yaml`. */
  name: string;
  /** The pod labels of k8s/base's Deployment of the same name (`app` names its Service). */
  labels: { app: string; version: string };
  serviceAccount: string;
  /** Port the app listens on (its `PORT`; the Service's targetPort). */
  appPort: number;
  /** Where peers reach the app through the sidecar, over mTLS (Istio's inbound port 15006). */
  inboundPort?: number;
  /**
   * Where users reach the app from the host: the ingress gateway's part, folded into this sidecar. It
   * serves the VirtualServices bound to the mesh's Gateway.
   */
  gatewayPort?: number;
  outbound: OutboundPort[];
}

/** A Service of the mesh: its port (the one in Istio's cluster names) and who serves it in compose. */
export interface ComposeService {
  host: string;
  /** The Kubernetes Service port, e.g. 80 for `backend`. */
  port: number;
  /** For a service without a sidecar in compose, its compose address; else the workloads labelled `app: host`. */
  address?: { host: string; port: number };
}

/** The whole compose deployment as the renderer sees it. */
export interface ComposeTopology {
  namespace: string;
  workloads: ComposeWorkload[];
  services: ComposeService[];
  /** Jaeger: OTLP/gRPC for the sidecars' spans, OTLP/HTTP for the apps' (passed through their sidecar). */
  collector: { host: string; grpcPort: number; httpPort: number };
  /** Each sidecar's admin endpoint, inside its container only. */
  adminPort: number;
  /** Where the compose files mount the workload certificates of scripts/gen-certs.sh. */
  certDir: string;
}

/** The pods, services and ports of docker-compose.yml. */
export const COMPOSE: ComposeTopology = {
  namespace: 'mesh-demo',
  workloads: [
    {
      name: 'frontend',
      labels: { app: 'frontend', version: 'v1' },
      serviceAccount: 'frontend',
      appPort: 8080,
      gatewayPort: 8080,
      outbound: [
        { port: 9080, host: 'backend' },
        { port: 9000, host: 'minio' },
        { port: 4318, host: 'otlp' },
      ],
    },
    ...(['v1', 'v2'] as const).map((version) => ({
      name: `backend-${version}`,
      labels: { app: 'backend', version },
      serviceAccount: 'backend',
      appPort: 8080,
      inboundPort: 8443,
      outbound: [
        { port: 8000, host: 'dynamodb-local' },
        { port: 4318, host: 'otlp' },
      ],
    })),
    {
      name: 'thumbnailer',
      labels: { app: 'thumbnailer', version: 'v1' },
      serviceAccount: 'thumbnailer',
      appPort: 8080,
      inboundPort: 8443,
      outbound: [
        { port: 9000, host: 'minio' },
        { port: 4318, host: 'otlp' },
      ],
    },
  ],
  services: [
    { host: 'frontend', port: 80 },
    { host: 'backend', port: 80 },
    { host: 'thumbnailer', port: 80 },
    { host: 'minio', port: 9000, address: { host: 'minio', port: 9000 } },
    { host: 'dynamodb-local', port: 8000, address: { host: 'dynamodb-local', port: 8000 } },
  ],
  collector: { host: 'jaeger', grpcPort: 4317, httpPort: 4318 },
  adminPort: 9901,
  certDir: '/etc/envoy/certs',
};

/** The OTLP pass-through's pseudo host in `outbound`. */
export const OTLP = 'otlp';

/** `<workload>-envoy`: the sidecar's compose service and host name. */
export const sidecarName = (workload: Pick<ComposeWorkload, 'name'>): string => `${workload.name}-envoy`;

/**
 * The Service for `host`.
 * @throws Error when the topology has no such service.
 */
export function serviceOf(topology: ComposeTopology, host: string): ComposeService {
  const service = topology.services.find((s) => s.host === host);
  if (!service) throw new Error(`docker compose runs no service '${host}'`);
  return service;
}

/** The workloads behind a Service, narrowed to a subset's labels (Istio selects endpoints so). */
export const workloadsOf = (
  topology: ComposeTopology,
  host: string,
  subsetLabels: Record<string, string> = {},
): ComposeWorkload[] =>
  topology.workloads.filter(
    (w) =>
      w.labels.app === host &&
      Object.entries(subsetLabels).every(([k, v]) => (w.labels as Record<string, string>)[k] === v),
  );
