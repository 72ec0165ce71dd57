/**
 * The compose sidecars decide who may call what exactly as Istio would: for every workload with an inbound
 * listener, a grid of callers and requests gets the same answer from the rendered Envoy config (its TLS
 * filter chains, then its RBAC filters, read as Envoy reads them) as from packages/mesh's evaluator of the
 * Istio resources (PeerAuthentication, then AuthorizationPolicy).
 */
import { authorize, COMPOSE, loadMeshConfig, principalOfSpiffeId, spiffeIdOf } from '@twin/mesh';
import { type Listener, loadMesh, rbacOf } from './compose-mesh';
import { rbacAllows } from './envoy-rbac';

const ROOT = `${__dirname}/../..`;
const config = loadMeshConfig({ root: ROOT, stage: 'canary-10' });
const mesh = loadMesh();

const CALLERS = [...new Set([...COMPOSE.workloads.map((w) => w.serviceAccount), 'minio', 'minio-setup'])].map(
  (sa) => spiffeIdOf(COMPOSE.namespace, sa),
);
CALLERS.push(
  spiffeIdOf('istio-system', 'istio-ingressgateway-service-account'),
  spiffeIdOf('other', 'frontend'),
);
const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'HEAD'];
const PATHS = [
  '/products',
  '/products/42',
  '/products/42/../../events',
  '/version',
  '/healthz',
  '/events',
  '/events?x=1',
  '/',
  '/productsX',
];

/** Whether the listener takes a connection: plaintext only on a chain without TLS. */
const acceptsTransport = (listener: Listener, mtls: boolean) =>
  listener.filter_chains.some((chain) => Boolean(chain.transport_socket) === mtls);

describe('compose sidecars authorize as the Istio resources say', () => {
  const inbound = COMPOSE.workloads.filter((w) => w.inboundPort !== undefined);

  it.each(inbound.map((w) => [w.name, w] as const))(
    '%s: every caller and request alike',
    (_name, workload) => {
      const sidecar = mesh.sidecars[`${workload.name}-envoy`]!.config;
      const listener = sidecar.static_resources.listeners.find(
        (l) => l.address.socket_address.port_value === workload.inboundPort,
      )!;
      const destination = {
        name: workload.name,
        namespace: COMPOSE.namespace,
        labels: workload.labels,
        sidecar: true,
      };
      const disagreements: string[] = [];
      let allowed = 0;
      for (const principal of [...CALLERS, undefined]) {
        for (const method of METHODS) {
          for (const path of PATHS) {
            const envoy =
              acceptsTransport(listener, principal !== undefined) &&
              rbacAllows(rbacOf(listener), { principal, method, path, port: workload.inboundPort! });
            const istio = authorize(config.authorizationPolicies, config.peerAuthentications, {
              source: principal ? { mtls: true, principal: principalOfSpiffeId(principal) } : { mtls: false },
              destination,
              port: workload.appPort,
              method,
              path,
            }).allowed;
            if (envoy) allowed++;
            if (envoy !== istio)
              disagreements.push(
                `${principal ?? 'plaintext'} ${method} ${path}: envoy ${envoy}, istio ${istio}`,
              );
          }
        }
      }
      expect(disagreements).toEqual([]);
      // Some requests get through and most do not: the grid exercises both answers.
      expect(allowed).toBeGreaterThan(0);
      expect(allowed).toBeLessThan((CALLERS.length * METHODS.length * PATHS.length) / 4);
    },
  );
});
