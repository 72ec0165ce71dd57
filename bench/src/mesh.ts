// The mesh as the bench runs it: npm start's pods, sidecars and ingress gateway, executed by the
// local data plane (Node sidecars, not Envoy), with a single backend pod so that the sidecars are
// the only difference from the paths without them.
import type { MeshOptions } from '@twin/local';

/**
 * The canary's last stage (all of the backend's traffic on v2) with v1 scaled to zero: one backend
 * pod, as the stack without the mesh runs one backend. The admin endpoint on any free port.
 */
export const BENCH_MESH: MeshOptions = { stage: 'canary-100', replicas: { v1: 0, v2: 1 }, adminPort: 0 };

/** That pod's name, which is also its endpoint's name in the stack (its app, past its sidecar). */
export const BACKEND_POD = 'backend-v2-0';

/** One proxy as the data plane's admin endpoint lists it (GET /proxies). */
interface ProxyListing {
  name: string;
  listeners: { outbound?: Record<string, number>; inbound?: number; gateway?: number };
}

/**
 * The URL of a sidecar's outbound listener for `host`: what its app calls (e.g. the frontend's
 * BACKEND_URL). A request sent there is routed as the app's own would be, through this sidecar and
 * the callee's.
 * @param adminUrl the data plane's admin endpoint
 * @throws Error when the data plane has no such proxy or listener
 */
export async function outboundListener(adminUrl: string, proxy: string, host: string): Promise<string> {
  const response = await fetch(`${adminUrl}/proxies`);
  if (!response.ok) throw new Error(`${adminUrl}/proxies answered ${response.status}`);
  const proxies = (await response.json()) as ProxyListing[];
  const port = proxies.find((p) => p.name === proxy)?.listeners.outbound?.[host];
  if (port === undefined) throw new Error(`the data plane has no outbound listener for ${host} in ${proxy}`);
  return `http://127.0.0.1:${port}`;
}
